import type { Host } from '../host/host.js';
import { formatIpv4, parseIpv4Cidr } from '../ip/ipv4.js';
import { goQuote } from './go-json.js';

/** iptables' chain name limit the CNI utilities keep to (`maxChainLength`). */
const MAX_CHAIN_LENGTH = 28;

/**
 * The per-container NAT chain of the bridge plugin's `ipMasq`: `CNI-` + the first 24 hex
 * characters of SHA-512(network name + container id).
 *
 * @see containernetworking/plugins pkg/utils/utils.go `FormatChainName`, `MustFormatChainNameWithPrefix`
 */
export async function ipMasqChainName(network: string, containerId: string): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-512', new TextEncoder().encode(network + containerId)));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return `CNI-${hex.slice(0, MAX_CHAIN_LENGTH - 4)}`;
}

/**
 * The comment on every ipMasq rule: `name: "<network>" id: "<containerID>"` (Go's `%q`).
 * @see containernetworking/plugins pkg/utils/utils.go `FormatComment`
 */
export function ipMasqComment(network: string, containerId: string): string {
  return `name: ${goQuote(network)} id: ${goQuote(containerId)}`;
}

/** The comment as iptables-save prints it: in double quotes, inner quotes and backslashes escaped. */
function quoted(comment: string): string {
  return `"${comment.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * `ip.SetupIPMasq` (iptables backend) for one pod address: the chain with `-d <pod subnet> -j
 * ACCEPT` and `! -d 224.0.0.0/4 -j MASQUERADE`, and `-A POSTROUTING -s <pod ip> -j <chain>`,
 * each rule commented; applied with `iptables-restore --noflush` (the jump only when missing, as
 * `AppendUnique`).
 *
 * @param address The pod's address with its prefix (`10.244.1.2/24`).
 * @see containernetworking/plugins pkg/ip/ipmasq_iptables_linux.go `setupIPMasqIPTables`
 */
export async function setupIpMasq(host: Host, netns: string, address: string, chain: string, comment: string): Promise<void> {
  const cidr = parseIpv4Cidr(address, { strict: false });
  const ip = address.split('/')[0] as string;
  const c = quoted(comment);
  const save = await host.iptablesSave(netns, { table: 'nat' });
  const jump = `-A POSTROUTING -s ${ip}/32 -m comment --comment ${c} -j ${chain}`;
  const lines = [
    '*nat',
    `:${chain} - [0:0]`,
    `-A ${chain} -d ${formatIpv4(cidr.address)}/${cidr.prefix} -m comment --comment ${c} -j ACCEPT`,
    `-A ${chain} ! -d 224.0.0.0/4 -m comment --comment ${c} -j MASQUERADE`,
    ...(save.split('\n').includes(jump) ? [] : [jump]),
    'COMMIT',
    '',
  ];
  await host.iptablesRestore(netns, lines.join('\n'), { noflush: true });
}

/**
 * `ip.TeardownIPMasq`: deletes the POSTROUTING jumps to `chain` (the bare-IP and the CIDR
 * forms), then flushes and deletes the chain. Missing rules and chains are fine.
 * @see containernetworking/plugins pkg/ip/ipmasq_iptables_linux.go `teardownIPMasqIPTables`
 */
export async function teardownIpMasq(host: Host, netns: string, chain: string): Promise<void> {
  const save = await host.iptablesSave(netns, { table: 'nat' });
  const lines = save.split('\n');
  const jumps = lines.filter((l) => l.startsWith('-A POSTROUTING ') && l.endsWith(` -j ${chain}`));
  const exists = lines.includes(`:${chain} - [0:0]`) || lines.some((l) => l.startsWith(`:${chain} `));
  if (jumps.length === 0 && !exists) return;
  const payload = ['*nat', ...jumps.map((l) => `-D ${l.slice(3)}`), ...(exists ? [`-F ${chain}`, `-X ${chain}`] : []), 'COMMIT', ''];
  await host.iptablesRestore(netns, payload.join('\n'), { noflush: true });
}
