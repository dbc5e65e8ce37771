import { KnetError } from '../errors/knet-error.js';

/** A MAC address in lowercase colon form, `aa:bb:cc:dd:ee:ff` (what `ip -j link` prints). */
export type Mac = string;

/** The Ethernet broadcast address. */
export const BROADCAST_MAC: Mac = 'ff:ff:ff:ff:ff:ff';
/** The all-zero MAC (loopback, ARP target in requests). */
export const ZERO_MAC: Mac = '00:00:00:00:00:00';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Parses and normalises a MAC address.
 *
 * @throws KnetError `EINVAL` for anything but six colon-separated hex octets.
 */
export function parseMac(text: string): Mac {
  const m = text.toLowerCase();
  if (!MAC_RE.test(m)) throw new KnetError('EINVAL', `invalid MAC address "${text}"`, { value: text });
  return m;
}

/** The six octets of a MAC. */
export function macToBytes(mac: Mac): Uint8Array {
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(mac.slice(i * 3, i * 3 + 2), 16);
  return out;
}

/** Formats six octets as a MAC. */
export function macFromBytes(bytes: Uint8Array, offset = 0): Mac {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((bytes[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** True for group (multicast and broadcast) addresses: the I/G bit of the first octet. */
export function isMulticastMac(mac: Mac): boolean {
  // The I/G bit is the low bit of the second hex digit: 1,3,5,7,9,b,d,f.
  const c = mac.charCodeAt(1);
  const v = c <= 57 ? c - 48 : (c | 0x20) - 87;
  return (v & 1) === 1;
}

/** The numeric value of a MAC, for ordering (the Linux bridge takes the lowest port MAC). */
export function macToNumber(mac: Mac): number {
  return parseInt(mac.replace(/:/g, ''), 16);
}
