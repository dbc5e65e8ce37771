const TEN_POW_10 = 10n ** 10n;

/**
 * The `--probability` kube-proxy gives the rule for the i-th of n endpoints: 1/(n−i), printed
 * with ten decimals as Go's `%0.10f` prints it.
 *
 * @remarks
 * Linux equivalent: the `statistic` match's `--mode random --probability P`.
 * Go rounds the exact binary value of the double half to even, so 1/2048 =
 * 0.00048828125 prints as `0.0004882812`; `Number.prototype.toFixed` would round the tie up.
 * The conversion is therefore done exactly, with BigInt; callers cache the strings, as
 * upstream's `precomputeProbabilities` does.
 * @param n the number of endpoints still to choose from (≥ 1).
 * @see kubernetes pkg/proxy/iptables/proxier.go computeProbability
 * @see https://pkg.go.dev/strconv#FormatFloat (exact decimal conversion, round half to even)
 * @example
 * ```ts
 * import { computeProbability } from '@knet/kube-proxy';
 * computeProbability(3); // '0.3333333333'
 * computeProbability(2048); // '0.0004882812'
 * ```
 */
export function computeProbability(n: number): string {
  const x = 1 / n;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  // x = mantissa * 2^exponent; scale by 10^10 and round half to even.
  let num = mantissa * TEN_POW_10;
  let den = 1n;
  if (exponent >= 0) num <<= BigInt(exponent);
  else den <<= BigInt(-exponent);
  let q = num / den;
  const twiceRem = (num % den) * 2n;
  if (twiceRem > den || (twiceRem === den && q % 2n === 1n)) q += 1n;
  const digits = q.toString().padStart(11, '0');
  return `${digits.slice(0, -10)}.${digits.slice(-10)}`;
}
