import { KnetError } from '../errors/knet-error.js';

/** DNS record type A. @see RFC 1035 §3.2.2 */
export const DNS_TYPE_A = 1;
/** DNS class IN. @see RFC 1035 §3.2.4 */
export const DNS_CLASS_IN = 1;

/**
 * Encodes a standard DNS query (RFC 1035 §4.1): a 12-byte header with the given id and RD set,
 * one question for `name`, type A, class IN. knet puts it in UDP probes to ports 53 and 5353,
 * so that captures decode as DNS the way a real `dig` would.
 *
 * @throws KnetError `EINVAL` for a label longer than 63 bytes or a name longer than 253.
 * @example
 * ```ts
 * import { encodeDnsQuery } from '@knet/core';
 * const payload = encodeDnsQuery('kubernetes.default.svc.cluster.local', 0x1234);
 * ```
 */
export function encodeDnsQuery(name: string, id: number): Uint8Array {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l !== '');
  if (name.length > 253 || labels.some((l) => l.length > 63)) {
    throw new KnetError('EINVAL', `invalid DNS name "${name}"`, { value: name });
  }
  const qname = labels.reduce((n, l) => n + 1 + l.length, 1);
  const out = new Uint8Array(12 + qname + 4);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, id & 0xffff);
  dv.setUint16(2, 0x0100); // QR=0, OPCODE=0, RD=1
  dv.setUint16(4, 1); // QDCOUNT
  let o = 12;
  for (const l of labels) {
    out[o++] = l.length;
    for (let i = 0; i < l.length; i++) out[o++] = l.charCodeAt(i) & 0x7f;
  }
  out[o++] = 0;
  dv.setUint16(o, DNS_TYPE_A);
  dv.setUint16(o + 2, DNS_CLASS_IN);
  return out;
}
