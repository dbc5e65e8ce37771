import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KnetError, type ManifestInput } from '@knet/core';

/** Where labs keep their state unless `$KNET_LAB_DIR` says otherwise (tmpfs: gone after a reboot, as the namespaces are). */
export const DEFAULT_LAB_DIR = '/run/knet/labs';

/** One echo server of a lab: the namespace it runs in, its pid and the ports it listens on. */
export interface LabEchoServer {
  readonly netns: string;
  readonly pid: number;
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
}

/** A pod of a lab as it was built. */
export interface LabPod {
  /** `namespace/name`. */
  readonly key: string;
  readonly node: string;
  /** Its sandbox namespace (the node's for hostNetwork pods). */
  readonly netns: string;
  readonly ip: string;
  readonly hostNetwork: boolean;
}

/**
 * What `knet lab up` records about a lab in `<lab dir>/<name>.json`: enough to show, probe and
 * remove it later from another process.
 */
export interface LabState {
  readonly version: 1;
  readonly name: string;
  /** Every namespace of the lab starts with it: `knet-<name>-`. */
  readonly prefix: string;
  /** `building` from the start of `lab up` until everything runs; a crash leaves it so. */
  readonly status: 'building' | 'up';
  readonly createdAt: string;
  /** The `knet lab up` process that built it. */
  readonly pid: number;
  readonly cni: string;
  readonly kubeProxy: string;
  /** The manifests' text, as read (the embedded example when no `-f` was given). */
  readonly manifests: readonly ManifestInput[];
  readonly fabric: string;
  readonly outside: string;
  /** Node name → its namespace. */
  readonly nodes: Readonly<Record<string, string>>;
  readonly pods: readonly LabPod[];
  readonly echoServers: readonly LabEchoServer[];
  /** The etcd the lab started for its CNI's datastore (flannel in etcd mode), if any. */
  readonly etcd?: { readonly pid: number; readonly endpoints: readonly string[]; readonly dataDir: string };
}

/** The directory lab state lives in: `$KNET_LAB_DIR`, else {@link DEFAULT_LAB_DIR}. */
export function labDir(): string {
  const d = process.env['KNET_LAB_DIR'];
  return d !== undefined && d !== '' ? d : DEFAULT_LAB_DIR;
}

/** The state file of a lab: `<lab dir>/<name>.json`. */
export function labStatePath(name: string): string {
  return join(labDir(), `${name}.json`);
}

/** The directory with a lab's scripts and echo server logs: `<lab dir>/<name>/`. */
export function labFilesDir(name: string): string {
  return join(labDir(), name);
}

/**
 * Reads a lab's state file, or `undefined` when there is none.
 * @throws KnetError `EPARSE` for a file that is not a lab state.
 */
export function readLabState(name: string): LabState | undefined {
  const file = labStatePath(name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new KnetError('EPARSE', `lab state is not JSON: ${(e as Error).message}`, { file });
  }
  const s = v as Partial<LabState> | null;
  if (s === null || typeof s !== 'object' || s.version !== 1 || s.name !== name || typeof s.prefix !== 'string' || !Array.isArray(s.pods)) {
    throw new KnetError('EPARSE', `not a knet lab state (version 1) for lab "${name}"`, { file });
  }
  return s as LabState;
}

/** Writes a lab's state file atomically (a temporary file renamed over it), creating the directory. */
export function writeLabState(state: LabState): void {
  mkdirSync(labDir(), { recursive: true, mode: 0o755 });
  const file = labStatePath(state.name);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, file);
}

/** Removes a lab's state file and its files directory (nothing to remove is fine). */
export function removeLabState(name: string): void {
  rmSync(labStatePath(name), { force: true });
  rmSync(labFilesDir(name), { recursive: true, force: true });
}

/** The names of the labs with a state file, sorted. */
export function listLabNames(): string[] {
  const dir = labDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}
