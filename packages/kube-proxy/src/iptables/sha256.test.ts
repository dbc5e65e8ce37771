import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '@knet/core';
import { sha256Words } from './sha256.js';

function hex(words: Int32Array): string {
  return [...words].map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');
}

describe('sha256Words', () => {
  // FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and lengths around the padding boundaries.
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ])('%j', (text, want) => {
    expect(hex(sha256Words(text))).toBe(want);
  });

  it('equals node:crypto for every length 0..300 and for non-ASCII text', () => {
    const rng = new SeededRng('sha256');
    for (let n = 0; n <= 300; n++) {
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(32 + Math.floor(rng.nextFloat() * 95));
      const want = createHash('sha256').update(s).digest('hex');
      if (hex(sha256Words(s)) !== want) expect(hex(sha256Words(s))).toBe(want);
    }
    for (const s of ['ns/sérvice:p80tcp', 'ünïcödé/名前:80udp10.0.0.1:80', '\u{1F600}']) {
      expect(hex(sha256Words(s))).toBe(createHash('sha256').update(s).digest('hex'));
    }
  });
});
