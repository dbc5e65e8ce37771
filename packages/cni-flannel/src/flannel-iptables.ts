import { formatIpv4Cidr } from '@knet/core';
import type { Host, Ipv4Cidr } from '@knet/core';

/** The comment on flanneld's masquerade rules. */
export const FLANNEL_MASQ_COMMENT = 'flanneld masq';
/** The comment on flanneld's forward rules. */
export const FLANNEL_FORWARD_COMMENT = 'flanneld forward';
/** kube-proxy's masquerade mark, which flanneld's first rule lets through untouched. */
export const KUBE_PROXY_MARK = '0x4000/0x4000';

/** Options of {@link formatFlannelMasqRules} and {@link applyFlannelIptables}. */
export interface FlannelIptablesOptions {
  /** The flannel Network (`10.244.0.0/16`). */
  readonly network: Ipv4Cidr;
  /** This node's lease (`10.244.1.0/24`). */
  readonly subnet: Ipv4Cidr;
  /** `--ip-masq`: install the masquerade rules. */
  readonly ipMasq: boolean;
  /** `--iptables-forward-rules` (default true): install the FORWARD accept rules. */
  readonly forwardRules: boolean;
  /** `--random-fully` on MASQUERADE, when iptables supports it (default true). */
  readonly randomFully?: boolean;
}

/**
 * flanneld's masquerade rules (`masqRules`) in iptables-save form, chain `FLANNEL-POSTRTG`, each
 * with `-m comment --comment "flanneld masq"`: the jump from `POSTROUTING`, RETURN for packets
 * kube-proxy marked (0x4000), within the pod network (both ways) and from outside to this node's
 * pods, MASQUERADE for pods to the outside (not multicast) and for the host to remote pods.
 * @see flannel-io/flannel pkg/trafficmngr/iptables/iptables.go `masqRules`
 */
export function formatFlannelMasqRules(o: Pick<FlannelIptablesOptions, 'network' | 'subnet' | 'randomFully'>): string[] {
  const net = formatIpv4Cidr(o.network);
  const pod = formatIpv4Cidr(o.subnet);
  const c = `-m comment --comment "${FLANNEL_MASQ_COMMENT}"`;
  const masq = o.randomFully === false ? '-j MASQUERADE' : '-j MASQUERADE --random-fully';
  return [
    `-A POSTROUTING ${c} -j FLANNEL-POSTRTG`,
    `-A FLANNEL-POSTRTG -m mark --mark ${KUBE_PROXY_MARK} ${c} -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${pod} -d ${net} ${c} -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${net} -d ${pod} ${c} -j RETURN`,
    `-A FLANNEL-POSTRTG ! -s ${net} -d ${pod} ${c} -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${net} ! -d 224.0.0.0/4 ${c} ${masq}`,
    `-A FLANNEL-POSTRTG ! -s ${net} -d ${net} ${c} ${masq}`,
  ];
}

/**
 * flanneld's forward rules (`forwardRules`), chain `FLANNEL-FWD` in `filter`, commented
 * `flanneld forward`: the jump from `FORWARD`, then ACCEPT from and to the Network.
 * @see flannel-io/flannel pkg/trafficmngr/iptables/iptables.go `forwardRules`
 */
export function formatFlannelForwardRules(network: Ipv4Cidr): string[] {
  const net = formatIpv4Cidr(network);
  const c = `-m comment --comment "${FLANNEL_FORWARD_COMMENT}"`;
  return [`-A FORWARD ${c} -j FLANNEL-FWD`, `-A FLANNEL-FWD -s ${net} ${c} -j ACCEPT`, `-A FLANNEL-FWD -d ${net} ${c} -j ACCEPT`];
}

/**
 * Installs flanneld's rules on a node through `iptables-restore --noflush`: each chain cleared
 * and refilled (`ClearChain`, then the rules), and the jump from the built-in chain appended
 * only when it is not there yet (`AppendUnique`), so a restarted flanneld leaves one jump.
 *
 * @remarks Linux equivalent: flanneld's `SetupAndEnsureMasqRules` and
 * `SetupAndEnsureForwardRules` (which run `iptables` or `iptables-restore`); its 5-second resync
 * is not modelled.
 * @see flannel-io/flannel pkg/trafficmngr/iptables/iptables.go, iptables_restore.go
 */
export async function applyFlannelIptables(host: Host, netns: string, o: FlannelIptablesOptions): Promise<void> {
  const save = (await host.iptablesSave(netns)).split('\n');
  const blocks: string[] = [];
  const block = (table: string, chain: string, rules: string[]): void => {
    const [jump, ...own] = rules as [string, ...string[]];
    blocks.push(`*${table}`, `:${chain} - [0:0]`, ...own, ...(save.includes(jump) ? [] : [jump]), 'COMMIT');
  };
  if (o.ipMasq) block('nat', 'FLANNEL-POSTRTG', formatFlannelMasqRules(o));
  if (o.forwardRules) block('filter', 'FLANNEL-FWD', formatFlannelForwardRules(o.network));
  if (blocks.length === 0) return;
  await host.iptablesRestore(netns, `${blocks.join('\n')}\n`, { noflush: true });
}
