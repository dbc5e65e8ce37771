import { KnetError, formatGoJson, isIpv4 } from '@knet/core';

/**
 * What a lease says about its node (flannel's `lease.LeaseAttrs`): the node's public address and
 * its backend's data.
 */
export interface LeaseAttrs {
  /** The node's public IPv4 address (`PublicIP`). */
  readonly publicIP: string;
  /** `BackendType` (`vxlan`, `host-gw`); absent for the udp backend, which does not set it. */
  readonly backendType?: string;
  /** `BackendData`, e.g. `{"VNI":1,"VtepMAC":"2a:6b:..."}` for vxlan; absent for host-gw and udp. */
  readonly backendData?: Readonly<Record<string, unknown>>;
}

/**
 * The JSON flanneld stores as a lease's value: Go's `json.Marshal` of `LeaseAttrs`, compact, in
 * field order — `PublicIP`, `PublicIPv6` (`null`), then `BackendType`, `BackendData` and
 * `BackendV6Data` only when set (`omitempty`).
 *
 * @see flannel-io/flannel pkg/lease/lease.go `LeaseAttrs`; pkg/subnet/etcd/registry.go `createSubnet`
 * @example
 * ```ts
 * import { formatLeaseAttrs } from '@knet/cni-flannel';
 * formatLeaseAttrs({ publicIP: '172.18.0.3', backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '0e:4f:c7:2a:11:90' } });
 * // '{"PublicIP":"172.18.0.3","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0e:4f:c7:2a:11:90"}}'
 * ```
 */
export function formatLeaseAttrs(attrs: LeaseAttrs): string {
  return formatGoJson({
    PublicIP: attrs.publicIP,
    PublicIPv6: null,
    ...(attrs.backendType !== undefined && attrs.backendType !== '' ? { BackendType: attrs.backendType } : {}),
    ...(attrs.backendData !== undefined ? { BackendData: attrs.backendData } : {}),
  });
}

/**
 * Reads a lease value written by flanneld (or by an operator's reservation, `{"PublicIP":"..."}`),
 * with Go's case-insensitive field matching.
 * @throws KnetError `EINVAL` when it is not such JSON.
 */
export function parseLeaseAttrs(text: string): LeaseAttrs {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new KnetError('EINVAL', `invalid lease attributes: ${(e as Error).message}`, { value: text });
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new KnetError('EINVAL', 'invalid lease attributes: not an object', { value: text });
  const get = (name: string): unknown => {
    const r = o as Record<string, unknown>;
    const k = Object.keys(r).find((x) => x === name) ?? Object.keys(r).find((x) => x.toLowerCase() === name.toLowerCase());
    return k === undefined ? undefined : r[k];
  };
  const publicIP = get('PublicIP');
  if (typeof publicIP !== 'string' || !isIpv4(publicIP)) throw new KnetError('EINVAL', `invalid lease attributes: PublicIP ${JSON.stringify(publicIP)}`, { value: text });
  const bt = get('BackendType');
  const bd = get('BackendData');
  return {
    publicIP,
    ...(typeof bt === 'string' && bt !== '' ? { backendType: bt } : {}),
    ...(bd !== undefined && bd !== null && typeof bd === 'object' && !Array.isArray(bd) ? { backendData: bd as Record<string, unknown> } : {}),
  };
}
