/** The comment of kubenet's masquerade rule. */
export const KUBENET_MASQUERADE_COMMENT = 'kubenet: SNAT for outbound traffic from cluster';

/**
 * kubenet's one masquerade rule, as `iptables-save -t nat` prints it, or `undefined` when the
 * non-masquerade CIDR is `0.0.0.0/0` (kubenet then installs none).
 *
 * @remarks
 * Linux equivalent: `iptables -t nat -A POSTROUTING -m comment --comment "kubenet: SNAT for
 * outbound traffic from cluster" -m addrtype ! --dst-type LOCAL ! -d <cidr> -j MASQUERADE`,
 * ensured by kubenet's `ensureMasqRule` at start-up and after every pod set-up and tear-down.
 * Pod traffic to anything outside the non-masquerade CIDR (and not to a local address of the
 * node) leaves with the node's address.
 *
 * @param nonMasqueradeCIDR kubelet's `--non-masquerade-cidr`, normalised (`10.0.0.0/8`).
 * @see kubernetes pkg/kubelet/dockershim/network/kubenet/kubenet_linux.go `ensureMasqRule`
 * @example
 * ```ts
 * import { formatKubenetMasqueradeRule } from '@knet/kubenet';
 * formatKubenetMasqueradeRule('10.0.0.0/8');
 * // '-A POSTROUTING -m comment --comment "kubenet: SNAT for outbound traffic from cluster" -m addrtype ! --dst-type LOCAL ! -d 10.0.0.0/8 -j MASQUERADE'
 * ```
 */
export function formatKubenetMasqueradeRule(nonMasqueradeCIDR: string): string | undefined {
  if (nonMasqueradeCIDR === '0.0.0.0/0' || nonMasqueradeCIDR === '::/0') return undefined;
  return `-A POSTROUTING -m comment --comment "${KUBENET_MASQUERADE_COMMENT}" -m addrtype ! --dst-type LOCAL ! -d ${nonMasqueradeCIDR} -j MASQUERADE`;
}
