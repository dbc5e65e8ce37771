import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isKnetError } from '@knet/core';
import { cleanupNamespaces, createLinuxHost, NETNS_RUN_DIR } from '@knet/core/linux';
import { stopEchoServer } from './echo-servers.js';
import { stopLabEtcd } from './lab-etcd.js';
import { labNamesOverlap, labPrefix } from './lab-name.js';
import { labFilesDir, listLabNames, readLabState, removeLabState, type LabState } from './lab-state.js';

/** What {@link removeLab} removed. */
export interface RemovedLab {
  readonly name: string;
  /** Whether a state file was there. */
  readonly hadState: boolean;
  /** Echo servers that were still running and were killed. */
  readonly echoServersStopped: number;
  /** The namespaces deleted, sorted. */
  readonly namespaces: readonly string[];
  /** Namespaces under the prefix left alone because they belong to another recorded lab. */
  readonly spared: readonly string[];
}

/**
 * The namespaces of lab `name` that exist: those named `knet-<name>-...`, except those of
 * another recorded lab whose longer prefix starts with this one (`knet-a-b-...` for lab `a`).
 */
export function labNamespaces(name: string, otherLabs: readonly string[] = listLabNames()): { mine: string[]; spared: string[] } {
  const prefix = labPrefix(name);
  const all = existsSync(NETNS_RUN_DIR) ? readdirSync(NETNS_RUN_DIR).filter((n) => n.startsWith(prefix) && n.length > prefix.length).sort() : [];
  const longer = otherLabs.filter((l) => l !== name && labNamesOverlap(l, name) && labPrefix(l).startsWith(prefix)).map(labPrefix);
  const spared = all.filter((n) => longer.some((p) => n.startsWith(p)));
  return { mine: all.filter((n) => !spared.includes(n)), spared };
}

/**
 * Removes a lab: kills its recorded echo servers, deletes every namespace `knet-<name>-...`
 * (killing whatever still runs inside, see `cleanupNamespaces`), then its state file and
 * files. Idempotent, and works without a state file (after a crashed `lab up`, or when the file
 * was deleted): the namespaces are found by name.
 *
 * @remarks Linux equivalent: `kill $(ip netns pids NS); ip netns del NS` for each namespace. The
 * machine's root namespace is never touched: only names under `knet-<name>-` are deleted.
 * @throws KnetError `EBUSY` when processes inside do not exit.
 */
export async function removeLab(name: string): Promise<RemovedLab> {
  let state: LabState | undefined;
  try {
    state = readLabState(name);
  } catch (e) {
    // A damaged state file must not keep the namespaces alive.
    if (!isKnetError(e, 'EPARSE')) throw e;
  }
  const script = join(labFilesDir(name), 'echo-server.mjs');
  let echoServersStopped = 0;
  for (const s of state?.echoServers ?? []) if (stopEchoServer(s, script)) echoServersStopped++;
  if (state?.etcd !== undefined) await stopLabEtcd(state.etcd);

  const prefix = labPrefix(name);
  const { mine, spared } = labNamespaces(name);
  let namespaces: string[];
  if (spared.length === 0) {
    namespaces = await cleanupNamespaces(prefix);
  } else {
    const host = createLinuxHost({ namespacePrefix: prefix });
    for (const ns of mine) await host.netnsDel(ns);
    namespaces = mine;
  }
  removeLabState(name);
  return { name, hadState: state !== undefined, echoServersStopped, namespaces, spared };
}
