import { describe, expect, it } from 'vitest';
import {
  formatIpv6Words,
  ipv6BytesOfWords,
  ipv6MaskToCidr,
  ipv6MaskedEquals,
  ipv6PrefixMask,
  ipv6WordsOfBytes,
  maskIpv6Words,
  tryParseIpv6Words,
  type Ipv6Words,
} from './ipv6-words.js';

describe('tryParseIpv6Words', () => {
  it.each<[string, Ipv6Words]>([
    ['::', [0, 0, 0, 0]],
    ['::1', [0, 0, 0, 1]],
    ['fd00::1', [0xfd000000, 0, 0, 1]],
    ['FD00:0:0:0:0:0:0:A', [0xfd000000, 0, 0, 0xa]],
    ['2001:db8::ff00:42:8329', [0x20010db8, 0, 0xff00, 0x00428329]],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', [0x20010db8, 0, 0xff00, 0x00428329]],
    ['1:2:3:4:5:6:7::', [0x00010002, 0x00030004, 0x00050006, 0x00070000]],
    ['::2:3:4:5:6:7:8', [0x00000002, 0x00030004, 0x00050006, 0x00070008]],
    ['::ffff:1.2.3.4', [0, 0, 0xffff, 0x01020304]],
    ['::1.2.3.4', [0, 0, 0, 0x01020304]],
    ['64:ff9b::192.0.2.33', [0x0064ff9b, 0, 0, 0xc0000221]],
    ['1:2:3:4:5:6:1.2.3.4', [0x00010002, 0x00030004, 0x00050006, 0x01020304]],
  ])('parses %s as inet_pton does (RFC 4291 section 2.2)', (text, words) => {
    expect(tryParseIpv6Words(text)).toEqual(words);
  });

  it.each([
    '',
    ':',
    ':1',
    '1:',
    '1::2:',
    'fd00:::1',
    '1::2::3',
    '12345::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7',
    'g::1',
    '[fd00::1]',
    'fe80::1%eth0',
    '::1.2.3',
    '::01.2.3.4',
    '::256.1.1.1',
    '1:2:3:4:5:6:7:1.2.3.4',
    '10.0.0.1',
    ' ::1',
  ])('refuses %j', (text) => {
    expect(tryParseIpv6Words(text)).toBeUndefined();
  });
});

describe('formatIpv6Words', () => {
  // The expected texts are what ip6tables-legacy-save 1.8.9 printed for these addresses
  // (__fixtures__/xtables/save/addresses.legacy), i.e. glibc inet_ntop.
  it.each([
    ['fd00:10:180::1', 'fd00:10:180::1'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::1.2.3.4'],
    ['::0.0.0.1', '::1'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['0:0:1:0:0:1:0:0', '::1:0:0:1:0:0'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:0:0', '1:2:3:4:5:6::'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::ffff:0:0', '::ffff:0.0.0.0'],
    ['ff02::1:ff00:0', 'ff02::1:ff00:0'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['ffff:0:ffff::', 'ffff:0:ffff::'],
  ])('prints %s as %s', (text, printed) => {
    const words = tryParseIpv6Words(text);
    if (words === undefined) throw new Error(`unparsable ${text}`);
    expect(formatIpv6Words(words)).toBe(printed);
    expect(tryParseIpv6Words(printed)).toEqual(words);
  });
});

describe('ipv6PrefixMask', () => {
  it.each<[number, Ipv6Words]>([
    [0, [0, 0, 0, 0]],
    [8, [0xff000000, 0, 0, 0]],
    [64, [0xffffffff, 0xffffffff, 0, 0]],
    [104, [0xffffffff, 0xffffffff, 0xffffffff, 0xff000000]],
    [127, [0xffffffff, 0xffffffff, 0xffffffff, 0xfffffffe]],
    [128, [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]],
  ])('/%i', (prefix, mask) => {
    expect(ipv6PrefixMask(prefix)).toEqual(mask);
    expect(ipv6MaskToCidr(mask)).toBe(prefix);
  });
});

describe('ipv6MaskToCidr', () => {
  it.each<[Ipv6Words]>([[[0xffff0000, 0xffff0000, 0, 0]], [[0xff00ff00, 0, 0, 0]], [[0, 0, 0, 1]], [[0xffffffff, 0, 0, 1]]])(
    'is -1 for the non-contiguous mask %j',
    (mask) => {
      expect(ipv6MaskToCidr(mask)).toBe(-1);
    },
  );
});

describe('ipv6MaskedEquals', () => {
  const net = tryParseIpv6Words('fd00:10::') as Ipv6Words;
  it.each([
    ['fd00:10::1', 64, true],
    ['fd00:10::ffff:ffff:ffff:ffff', 64, true],
    ['fd00:10:0:1::', 64, false],
    ['fd00:11::', 31, true],
    ['fd00:11::', 32, false],
    ['::', 0, true],
  ])('%s in fd00:10::/%i is %s', (addr, prefix, inside) => {
    const mask = ipv6PrefixMask(prefix);
    expect(ipv6MaskedEquals(tryParseIpv6Words(addr) as Ipv6Words, mask, maskIpv6Words(net, mask))).toBe(inside);
  });
});

describe('ipv6WordsOfBytes', () => {
  it('reads network byte order and ipv6BytesOfWords gives the bytes back', () => {
    const bytes = Uint8Array.from([0xfd, 0, 0, 0x10, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
    const words = ipv6WordsOfBytes(bytes);
    expect(formatIpv6Words(words)).toBe('fd00:10:180::2:1');
    expect(ipv6BytesOfWords(words)).toEqual(bytes);
  });
});
