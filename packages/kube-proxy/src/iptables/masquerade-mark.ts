import { KnetError } from '@knet/core';

/**
 * The masquerade mark as kube-proxy writes it: `1 << masqueradeBit` formatted with Go's
 * `%#08x` (eight zero-padded hex digits after `0x`), so bit 14 gives `0x00004000`.
 *
 * @remarks
 * Linux equivalent: the value of `-j MARK --or-mark` / `-m mark --mark V/V`; `iptables-save`
 * prints it without the padding (`0x4000`). Upstream's unit tests inject `0x4000` directly.
 * @param masqueradeBit kube-proxy's `--iptables-masquerade-bit` (0–31, default 14).
 * @throws KnetError `EINVAL` for a bit outside 0–31.
 * @see kubernetes pkg/proxy/iptables/proxier.go NewProxier (masqueradeMark)
 * @see /work/shared/facts/kube-proxy.md section 2.4
 * @example
 * ```ts
 * import { formatMasqueradeMark } from '@knet/kube-proxy';
 * formatMasqueradeMark(14); // '0x00004000'
 * ```
 */
export function formatMasqueradeMark(masqueradeBit = 14): string {
  if (!Number.isInteger(masqueradeBit) || masqueradeBit < 0 || masqueradeBit > 31) {
    throw new KnetError('EINVAL', `masquerade bit ${masqueradeBit} is outside 0-31`, { field: 'masqueradeBit', value: masqueradeBit });
  }
  return `0x${(2 ** masqueradeBit).toString(16).padStart(8, '0')}`;
}
