import type { ClusterContainer, ContainerPort, Labels, SourceRef } from '../cluster/cluster-state.js';
import { manifestError } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import {
  isValidPortName,
  looksLikeIpv6,
  optArray,
  optBool,
  optInt,
  optObject,
  optString,
  readIpv4,
  readProtocol,
  reqString,
} from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';
import { validateMetadata } from './validate-metadata.js';

/** A Pod as validated, before its node and IP are checked against the cluster. */
export interface ValidatedPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly labels: Labels;
  /** `spec.nodeName`; absent for an unscheduled pod. */
  readonly nodeName?: string;
  readonly hostNetwork: boolean;
  /** `status.podIP` (or the IPv4 entry of `status.podIPs`). */
  readonly podIP?: string;
  /** The pod IP as an unsigned 32-bit number. */
  readonly podIPValue?: number;
  /** Where the pod IP was found (`status.podIP`, `status.podIPs[0].ip`). */
  readonly podIPField?: string;
  /** `status.phase` (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`). */
  readonly phase?: string;
  readonly containers: readonly ClusterContainer[];
  readonly source: SourceRef;
}

/**
 * Validates a Pod (`v1`): metadata, `spec.nodeName`, `spec.hostNetwork`, the containers and
 * their ports (protocol defaults to `TCP`, as the API server's defaulting does), and
 * `status.podIP`.
 *
 * @remarks
 * - Container ports: `containerPort` and `hostPort` 1-65535, `protocol` TCP/UDP/SCTP, `name` a
 *   valid `IANA_SVC_NAME` (at most 15 characters, at least one letter).
 * - `status.podIPs` is read when `status.podIP` is absent; IPv6 entries are skipped.
 * - Linux equivalent: none; this is the part of the PodSpec kubelet hands to the CNI plugin.
 * @throws KnetError `EINVAL` naming the field, e.g. `spec.containers[1].ports[0].containerPort`.
 * @see kubernetes pkg/apis/core/validation/validation.go validateContainerPorts
 * @see kubernetes pkg/apis/core/v1/defaults.go SetDefaults_ContainerPort
 */
export function validatePod(ctx: ManifestContext, object: ManifestObject): ValidatedPod {
  const meta = validateMetadata(ctx, object, true);
  const spec = optObject(ctx, object['spec'], 'spec') ?? {};
  const status = optObject(ctx, object['status'], 'status') ?? {};
  const nodeName = optString(ctx, spec['nodeName'], 'spec.nodeName');
  const hostNetwork = optBool(ctx, spec['hostNetwork'], 'spec.hostNetwork') ?? false;

  const list = optArray(ctx, spec['containers'], 'spec.containers');
  if (list === undefined || list.length === 0) {
    throw manifestError(ctx.source, 'spec.containers', 'a pod needs at least one container');
  }
  const containers: ClusterContainer[] = [];
  for (let i = 0; i < list.length; i++) containers.push(validateContainer(ctx, list[i], `spec.containers[${i}]`));

  let podIP: { text: string; value: number } | undefined;
  let podIPField: string | undefined;
  const podIPText = optString(ctx, status['podIP'], 'status.podIP');
  if (podIPText !== undefined && !looksLikeIpv6(podIPText)) {
    podIP = readIpv4(ctx, podIPText, 'status.podIP');
    podIPField = 'status.podIP';
  } else {
    const podIPs = optArray(ctx, status['podIPs'], 'status.podIPs') ?? [];
    for (let i = 0; i < podIPs.length; i++) {
      const entry = optObject(ctx, podIPs[i], `status.podIPs[${i}]`);
      const field = `status.podIPs[${i}].ip`;
      const text = entry === undefined ? undefined : optString(ctx, entry['ip'], field);
      if (text === undefined || looksLikeIpv6(text)) continue;
      podIP = readIpv4(ctx, text, field);
      podIPField = field;
      break;
    }
  }
  const phase = optString(ctx, status['phase'], 'status.phase');

  return {
    namespace: meta.namespace,
    name: meta.name,
    ...(meta.uid === undefined ? {} : { uid: meta.uid }),
    labels: meta.labels,
    ...(nodeName === undefined ? {} : { nodeName }),
    hostNetwork,
    ...(podIP === undefined ? {} : { podIP: podIP.text, podIPValue: podIP.value, podIPField: podIPField ?? 'status.podIP' }),
    ...(phase === undefined ? {} : { phase }),
    containers,
    source: ctx.source,
  };
}

function validateContainer(ctx: ManifestContext, v: unknown, field: string): ClusterContainer {
  const c = optObject(ctx, v, field);
  if (c === undefined) throw manifestError(ctx.source, field, 'expected a container object');
  const name = reqString(ctx, c['name'], `${field}.name`);
  const image = optString(ctx, c['image'], `${field}.image`);
  const portList = optArray(ctx, c['ports'], `${field}.ports`) ?? [];
  const ports: ContainerPort[] = [];
  for (let j = 0; j < portList.length; j++) {
    const pf = `${field}.ports[${j}]`;
    const p = optObject(ctx, portList[j], pf);
    if (p === undefined) throw manifestError(ctx.source, pf, 'expected a port object');
    const containerPort = optInt(ctx, p['containerPort'], `${pf}.containerPort`, 1, 65535);
    if (containerPort === undefined) throw manifestError(ctx.source, `${pf}.containerPort`, 'required value is missing');
    const protocol = readProtocol(ctx, p['protocol'], `${pf}.protocol`);
    const portName = optString(ctx, p['name'], `${pf}.name`);
    if (portName !== undefined && !isValidPortName(portName)) {
      throw manifestError(ctx.source, `${pf}.name`, `invalid port name "${portName}"`);
    }
    // hostPort 0 means "not set" in the API.
    const hostPort = p['hostPort'] === 0 ? undefined : optInt(ctx, p['hostPort'], `${pf}.hostPort`, 1, 65535);
    ports.push({
      ...(portName === undefined ? {} : { name: portName }),
      containerPort,
      protocol,
      ...(hostPort === undefined ? {} : { hostPort }),
    });
  }
  return { name, ...(image === undefined ? {} : { image }), ports };
}
