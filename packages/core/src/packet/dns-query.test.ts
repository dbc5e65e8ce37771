import { describe, expect, it } from 'vitest';
import { encodeDnsQuery } from './dns-query.js';

describe('encodeDnsQuery', () => {
  it('encodes the RFC 1035 wire format of a type A question', () => {
    // What `dig +noedns kubernetes.default A` sends, header id 0xbeef.
    expect(Buffer.from(encodeDnsQuery('kubernetes.default', 0xbeef)).toString('hex')).toBe(
      'beef01000001000000000000' + '0a6b756265726e65746573' + '0764656661756c74' + '00' + '00010001',
    );
  });

  it.each([['a'.repeat(64) + '.com'], ['x.'.repeat(130)]])('rejects %s', (name) => {
    expect(() => encodeDnsQuery(name, 1)).toThrowError(expect.objectContaining({ code: 'EINVAL' }));
  });
});
