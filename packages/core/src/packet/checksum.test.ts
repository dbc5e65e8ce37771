import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../ip/ipv4.js';
import { fixture, readPcap } from './__fixtures__/read-pcap.js';
import { internetChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, onesComplementSum } from './checksum.js';

const hexBytes = (h: string): Uint8Array => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);

/** The golden capture (real frames from Linux, checksums computed by the kernel). */
const captured = readPcap(fixture('capture-lab.pcap')).records.map((r) => r.bytes);

describe('onesComplementSum', () => {
  it.each([
    // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2 after the end-around carry
    ['0001f203f4f5f6f7', 0xddf2],
    ['', 0],
    ['ff', 0xff00], // an odd byte is the high half of a word
    ['ffff0001', 0x0001], // carry wraps around
    ['0001f203f4f5f6', 0xdcfb], // 0001+f203+f4f5+f600 = 2dcf9 -> dcfb
  ])('sums %s to %i', (h, sum) => {
    expect(onesComplementSum(hexBytes(h))).toBe(sum);
  });

  it('chains through initial: a split sum equals the whole', () => {
    const b = hexBytes('45000054ab1240004001');
    expect(onesComplementSum(b, 4, 10, onesComplementSum(b, 0, 4))).toBe(onesComplementSum(b));
  });
});

describe('internetChecksum', () => {
  it('gives 0x220d for the RFC 1071 example', () => {
    expect(internetChecksum(hexBytes('0001f203f4f5f6f7'))).toBe(0x220d);
  });

  it.each([
    // 192.168.0.1 > 192.168.0.199 UDP header, the classic worked example: checksum b861
    ['450000730000400040110000c0a80001c0a800c7', 0xb861],
  ])('computes the IPv4 header checksum of %s', (h, sum) => {
    expect(internetChecksum(hexBytes(h))).toBe(sum);
  });

  it.each(captured.filter((f) => f[12] === 0x08 && f[13] === 0x00).map((f, i) => [i, f] as const))(
    'verifies to 0 over the IPv4 header of captured frame %i',
    (_i, f) => {
      const ihl = ((f[14] ?? 0) & 0x0f) * 4;
      expect(internetChecksum(f, 14, 14 + ihl)).toBe(0);
      const bad = f.slice();
      bad[14 + 8] = ((bad[14 + 8] ?? 0) - 1) & 0xff; // TTL changed, checksum not updated
      expect(internetChecksum(bad, 14, 14 + ihl)).not.toBe(0);
    },
  );
});

describe('ipv4PseudoHeaderSum', () => {
  it('matches a sum over the explicit 12-byte pseudo-header', () => {
    const src = parseIpv4('10.244.1.2');
    const dst = parseIpv4('10.244.2.3');
    const explicit = hexBytes('0af401020af402030011000d');
    expect(ipv4PseudoHeaderSum(src, dst, 17, 13)).toBe(onesComplementSum(explicit));
  });

  it.each(
    captured
      .filter((f) => f[12] === 0x08 && f[13] === 0x00 && (f[23] === 17 || f[23] === 6))
      .map((f, i) => [i, f[23] === 17 ? 'UDP' : 'TCP', f] as const),
  )('verifies captured frame %i (%s) to 0 with the pseudo-header', (_i, _proto, f) => {
    const ihl = ((f[14] ?? 0) & 0x0f) * 4;
    const total = ((f[16] ?? 0) << 8) | (f[17] ?? 0);
    const v = new DataView(f.buffer, f.byteOffset);
    const l4 = 14 + ihl;
    const end = 14 + total;
    const seed = ipv4PseudoHeaderSum(v.getUint32(26), v.getUint32(30), f[23] ?? 0, end - l4);
    expect(internetChecksum(f, l4, end, seed)).toBe(0);
  });
});

describe('ipv6PseudoHeaderSum', () => {
  it('matches a sum over the explicit 40-byte pseudo-header (RFC 8200 section 8.1)', () => {
    const src = hexBytes('fd001024000000000000000000000102');
    const dst = hexBytes('fd001024000000000000000000000203');
    const explicit = new Uint8Array(40);
    explicit.set(src, 0);
    explicit.set(dst, 16);
    explicit.set(hexBytes('0001000f00000011'), 32); // length 65551, next header 17
    expect(ipv6PseudoHeaderSum(src, dst, 17, 65551)).toBe(onesComplementSum(explicit));
  });
});
