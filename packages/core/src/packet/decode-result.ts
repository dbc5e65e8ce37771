/**
 * The outcome of decoding bytes: the structure, or why the bytes are not a valid packet.
 *
 * @remarks Decoders never throw on bad input (STYLE.md, after smoltcp's `wire/`): a malformed
 * packet is a drop verdict with a reason. `reason` is one of a closed kebab-case set:
 * `truncated-ethernet`, `truncated-vlan`, `truncated-arp`, `truncated-ipv4`, `bad-ip-version`,
 * `bad-ipv4-header-length`, `bad-ipv4-total-length`, `bad-ipv4-checksum`, `truncated-ipv6`,
 * `truncated-icmp`, `bad-icmp-checksum`, `truncated-udp`, `bad-udp-length`, `bad-udp-checksum`,
 * `truncated-tcp`, `bad-tcp-data-offset`, `bad-tcp-checksum`. A failure inside an encapsulated
 * packet is prefixed with the encapsulation: `vxlan-inner:bad-tcp-checksum`,
 * `ipip-inner:truncated-ipv4`.
 * @see packet-decoder.ts
 * @example
 * ```ts
 * import { decodeEthernetFrame } from '@knet/core';
 * const r = decodeEthernetFrame(new Uint8Array(10));
 * if (!r.ok) r.reason; // 'truncated-ethernet'
 * ```
 */
export type DecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };
