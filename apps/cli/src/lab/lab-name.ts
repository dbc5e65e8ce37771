import type { ClusterState } from '@knet/core';
import { UsageError } from '../cli-error.js';

/** A lab name: a DNS label (RFC 1123), at most 40 characters, so namespace names stay short. */
const LAB_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/**
 * Checks a lab name (`--name`, or the KnetCluster's name): lowercase letters, digits and `-`,
 * starting and ending with a letter or digit, at most 40 characters.
 * @throws UsageError for anything else.
 */
export function parseLabName(name: string): string {
  if (!LAB_NAME_RE.test(name)) {
    throw new UsageError(`lab name "${name}" must be 1-40 lowercase letters, digits or "-", starting and ending with a letter or digit`);
  }
  return name;
}

/** The prefix of every namespace of a lab: `knet-<name>-`. */
export function labPrefix(name: string): string {
  return `knet-${name}-`;
}

/**
 * True when the namespaces of one lab could be taken for the other's: one prefix starts with
 * the other (`knet-a-` and `knet-a-b-`).
 */
export function labNamesOverlap(a: string, b: string): boolean {
  const pa = labPrefix(a);
  const pb = labPrefix(b);
  return a !== b && (pa.startsWith(pb) || pb.startsWith(pa));
}

/**
 * The cluster under the lab's name: namespaces are named after `cluster.name`
 * (`knet-<name>-node-<node>`), so a lab named differently from its KnetCluster gets its own
 * namespaces, and the simulation built for `lab check` gets the same names.
 */
export function withLabName(state: ClusterState, name: string): ClusterState {
  return state.cluster.name === name ? state : { ...state, cluster: { ...state.cluster, name } };
}
