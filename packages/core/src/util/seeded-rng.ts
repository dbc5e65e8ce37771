import type { Mac } from '../ip/mac.js';

/**
 * A deterministic pseudo-random generator (SplitMix32-style), the only source of randomness
 * inside the model.
 *
 * @remarks Same seed, same sequence: MACs, veth names and statistic draws are reproducible
 * byte for byte (DESIGN.md, "Determinism").
 */
export class SeededRng {
  private state: number;

  constructor(seed: number | string = 1) {
    this.state = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
  }

  /** The next unsigned 32-bit value. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.nextU32() & 0xff;
    return out;
  }

  /** `2n` lowercase hex characters (the bridge plugin's `veth` + 8 hex uses n = 4). */
  hex(n: number): string {
    let s = '';
    for (const b of this.bytes(n)) s += b.toString(16).padStart(2, '0');
    return s;
  }

  /**
   * A random locally administered unicast MAC, as the kernel's `eth_random_addr()` makes:
   * the multicast bit cleared, the locally-administered bit set.
   *
   * @see linux include/linux/etherdevice.h eth_random_addr
   */
  mac(): Mac {
    const b = this.bytes(6);
    b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
  }
}

/** FNV-1a 32-bit hash of a string, used to seed from names. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
