import { formatIpv4, parseIpv4 } from '@knet/core';
import type { Ipv4Cidr } from '@knet/core';

const SUBNET_KEY = /(\d+\.\d+.\d+.\d+)-(\d+)(?:&([a-f\d:]+)-(\d+))?$/;

/**
 * The last segment of a lease's key: the subnet with a dash, `10.244.1.0-24`
 * (`/coreos.com/network/subnets/10.244.1.0-24`).
 * @see flannel-io/flannel pkg/subnet/subnet.go `MakeSubnetKey`
 */
export function formatSubnetKey(subnet: Ipv4Cidr): string {
  return `${formatIpv4(subnet.address)}-${subnet.prefix}`;
}

/**
 * The subnet of a lease key (any key ending in `a.b.c.d-len`), or `undefined` when the key is
 * not a subnet, as flannel's `ParseSubnetKey` (its regular expression, a prefix length below 32).
 * @see flannel-io/flannel pkg/subnet/subnet.go `ParseSubnetKey`
 */
export function parseSubnetKey(key: string): Ipv4Cidr | undefined {
  const m = SUBNET_KEY.exec(key);
  if (m === null) return undefined;
  let address: number;
  try {
    address = parseIpv4(m[1]!);
  } catch {
    return undefined;
  }
  const prefix = Number(m[2]);
  // strconv.ParseUint(s, 10, 5): 0..31.
  if (!(prefix >= 0 && prefix < 32)) return undefined;
  return { address, prefix };
}
