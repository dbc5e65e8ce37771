import type { Labels, SourceRef } from '../cluster/cluster-state.js';
import type { Ipv4Cidr } from '../ip/ipv4.js';
import { manifestError } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import {
  looksLikeIpv6,
  optArray,
  optObject,
  optString,
  readIpv4,
  readIpv4Cidr,
} from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';
import { validateMetadata } from './validate-metadata.js';

/** A Node as validated, before its pod CIDR is checked against the cluster and allocated. */
export interface ValidatedNode {
  readonly name: string;
  readonly labels: Labels;
  readonly internalIP: string;
  /** The InternalIP as an unsigned 32-bit number. */
  readonly internalIPValue: number;
  /** Where the InternalIP was found (`status.addresses[0].address`), for later errors. */
  readonly internalIPField: string;
  /** `spec.podCIDR` (or the IPv4 entry of `spec.podCIDRs`) when set. */
  readonly podCIDR?: Ipv4Cidr;
  /** Where the pod CIDR was found (`spec.podCIDR` or `spec.podCIDRs[0]`). */
  readonly podCIDRField?: string;
  readonly source: SourceRef;
}

/**
 * Validates a Node (`v1`): its name, its InternalIP (`status.addresses[type=InternalIP]`, the
 * first IPv4 one) and its pod CIDR (`spec.podCIDR`, else the IPv4 entry of `spec.podCIDRs`).
 *
 * @remarks
 * - IPv6 entries of dual-stack nodes are skipped: knet models IPv4.
 * - When both `spec.podCIDR` and `spec.podCIDRs` are set, `podCIDRs[0]` must equal `podCIDR`, as
 *   the API server's node validation requires.
 * - A pod CIDR with host bits set is rejected: host-local would refuse it as a subnet.
 * - Linux equivalent: none; this is what kubelet reads from its Node object.
 * @throws KnetError `EINVAL` with `details.field` (`status.addresses`, `spec.podCIDR`, ...).
 * @see kubernetes pkg/apis/core/validation/validation.go ValidateNode
 */
export function validateNode(
  ctx: ManifestContext,
  object: ManifestObject,
  cidrCache?: Map<string, Ipv4Cidr>,
): ValidatedNode {
  const meta = validateMetadata(ctx, object, false);
  const spec = optObject(ctx, object['spec'], 'spec') ?? {};
  const status = optObject(ctx, object['status'], 'status') ?? {};

  let internal: { text: string; value: number } | undefined;
  let internalIPField = '';
  const addresses = optArray(ctx, status['addresses'], 'status.addresses') ?? [];
  for (let i = 0; i < addresses.length && internal === undefined; i++) {
    const a = optObject(ctx, addresses[i], `status.addresses[${i}]`);
    if (a === undefined || optString(ctx, a['type'], `status.addresses[${i}].type`) !== 'InternalIP') continue;
    const field = `status.addresses[${i}].address`;
    const text = optString(ctx, a['address'], field);
    if (text !== undefined && looksLikeIpv6(text)) continue;
    internal = readIpv4(ctx, a['address'], field);
    internalIPField = field;
  }
  if (internal === undefined) {
    throw manifestError(ctx.source, 'status.addresses', `node ${meta.name} has no IPv4 InternalIP in status.addresses`);
  }

  const podCIDRText = optString(ctx, spec['podCIDR'], 'spec.podCIDR');
  const podCIDRs = optArray(ctx, spec['podCIDRs'], 'spec.podCIDRs') ?? [];
  let podCIDR: Ipv4Cidr | undefined;
  let podCIDRField: string | undefined;
  if (podCIDRText !== undefined) {
    const first = podCIDRs[0];
    if (first !== undefined && first !== podCIDRText) {
      throw manifestError(ctx.source, 'spec.podCIDRs[0]', `must match spec.podCIDR "${podCIDRText}"`);
    }
    if (!looksLikeIpv6(podCIDRText)) {
      podCIDR = readIpv4Cidr(ctx, podCIDRText, 'spec.podCIDR', true, cidrCache);
      podCIDRField = 'spec.podCIDR';
    }
  }
  if (podCIDR === undefined) {
    for (let i = 0; i < podCIDRs.length; i++) {
      const field = `spec.podCIDRs[${i}]`;
      const text = optString(ctx, podCIDRs[i], field);
      if (text === undefined || looksLikeIpv6(text)) continue;
      podCIDR = readIpv4Cidr(ctx, text, field, true, cidrCache);
      podCIDRField = field;
      break;
    }
  }

  return {
    name: meta.name,
    labels: meta.labels,
    internalIP: internal.text,
    internalIPValue: internal.value,
    internalIPField,
    ...(podCIDR === undefined ? {} : { podCIDR, podCIDRField: podCIDRField ?? 'spec.podCIDR' }),
    source: ctx.source,
  };
}

