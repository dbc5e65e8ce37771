import { KnetError, formatIpv4, formatIpv4Cidr, parseIpv4Cidr } from '@knet/core';
import type { Ipv4Cidr } from '@knet/core';

/** Where flanneld writes it and the CNI plugin reads it (`--subnet-file`). */
export const SUBNET_ENV_PATH = '/run/flannel/subnet.env';

/** The contents of `subnet.env`. */
export interface SubnetEnv {
  /** `FLANNEL_NETWORK`: the whole network. */
  readonly network: Ipv4Cidr;
  /** The node's subnet (`FLANNEL_SUBNET` is its first address with the prefix: `10.244.1.1/24`). */
  readonly subnet: Ipv4Cidr;
  /** `FLANNEL_MTU`: the backend's MTU. */
  readonly mtu: number;
  /** `FLANNEL_IPMASQ`: flanneld's `--ip-masq`. */
  readonly ipMasq: boolean;
}

/**
 * `subnet.env` exactly as flanneld's `WriteSubnetFile` writes it (IPv4):
 * `FLANNEL_NETWORK=<Network>`, `FLANNEL_SUBNET=<subnet + 1>/<len>`, `FLANNEL_MTU=<mtu>`,
 * `FLANNEL_IPMASQ=<true|false>`, one per line, each ending in a newline.
 *
 * @see flannel-io/flannel pkg/subnet/subnet.go `WriteSubnetFile`
 * @example
 * ```ts
 * import { formatSubnetEnv } from '@knet/cni-flannel';
 * formatSubnetEnv({ network: { address: 0x0af40000, prefix: 16 }, subnet: { address: 0x0af40100, prefix: 24 }, mtu: 1450, ipMasq: true });
 * // 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n'
 * ```
 */
export function formatSubnetEnv(env: SubnetEnv): string {
  return (
    `FLANNEL_NETWORK=${formatIpv4Cidr(env.network)}\n` +
    `FLANNEL_SUBNET=${formatIpv4(env.subnet.address + 1)}/${env.subnet.prefix}\n` +
    `FLANNEL_MTU=${env.mtu}\n` +
    `FLANNEL_IPMASQ=${String(env.ipMasq)}\n`
  );
}

/**
 * Reads `subnet.env` as the flannel CNI plugin's `loadFlannelSubnetEnv` does: `KEY=VALUE` lines,
 * CIDRs reduced to their networks (`10.244.1.1/24` → `10.244.1.0/24`), `FLANNEL_IPMASQ` true only
 * for `true`; unknown keys ignored.
 *
 * @throws KnetError `EINVAL` `<file> is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, ...` when
 * a value is missing (the list in the plugin's order), or for a value that does not parse.
 * @see flannel-io/cni-plugin flannel.go `loadFlannelSubnetEnv`, `subnetEnv.missing`
 */
export function parseSubnetEnv(text: string, file = SUBNET_ENV_PATH): SubnetEnv {
  let network: Ipv4Cidr | undefined;
  let subnet: Ipv4Cidr | undefined;
  let mtu: number | undefined;
  let ipMasq: boolean | undefined;
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    const value = eq < 0 ? '' : line.slice(eq + 1);
    const cidr = (): Ipv4Cidr => {
      try {
        return parseIpv4Cidr(value, { strict: false });
      } catch {
        throw new KnetError('EINVAL', `invalid CIDR address: ${value}`, { file, field: key });
      }
    };
    switch (key) {
      case 'FLANNEL_NETWORK':
        network = cidr();
        break;
      case 'FLANNEL_SUBNET':
        subnet = cidr();
        break;
      case 'FLANNEL_MTU':
        if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw new KnetError('EINVAL', `strconv.ParseUint: parsing "${value}": invalid syntax`, { file, field: key });
        mtu = Number(value);
        break;
      case 'FLANNEL_IPMASQ':
        ipMasq = value === 'true';
        break;
    }
  }
  const missing: string[] = [];
  if (network === undefined) missing.push('FLANNEL_NETWORK', 'FLANNEL_IPV6_NETWORK');
  if (subnet === undefined) missing.push('FLANNEL_SUBNET', 'FLANNEL_IPV6_SUBNET');
  if (mtu === undefined) missing.push('FLANNEL_MTU');
  if (ipMasq === undefined) missing.push('FLANNEL_IPMASQ');
  if (missing.length > 0) throw new KnetError('EINVAL', `${file} is missing ${missing.join(', ')}`, { file, missing });
  return { network: network!, subnet: subnet!, mtu: mtu!, ipMasq: ipMasq! };
}
