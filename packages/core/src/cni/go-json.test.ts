import { describe, expect, it } from 'vitest';
import { checkGoJson, formatGoJsonIndent, goQuote, goQuoteBytes, goQuoteList, GoJsonSyntaxError, parseGoJson } from './go-json.js';

function syntaxError(text: string): string {
  try {
    checkGoJson(text);
  } catch (e) {
    if (e instanceof GoJsonSyntaxError) return e.message;
    throw e;
  }
  return 'ok';
}

// Expected texts are Go's own: `printf '%s' INPUT | CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS=/x
// CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/host-local` (Debian containernetworking-plugins
// 1.1.1+ds1-3+b5) prints `error unmarshall network config: <text>`. cni-skel.test.ts compares live.
describe('checkGoJson', () => {
  it.each([
    ['', 'unexpected end of JSON input'],
    [' ', 'unexpected end of JSON input'],
    ['{', 'unexpected end of JSON input'],
    ['{"a"', 'unexpected end of JSON input'],
    ['{"a":', 'unexpected end of JSON input'],
    ['{"a":1', 'unexpected end of JSON input'],
    ['{"a":1,', 'unexpected end of JSON input'],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', 'invalid character \'"\' after object key:value pair'],
    ['[1 2]', "invalid character '2' after array element"],
    ['{1:2}', "invalid character '1' looking for beginning of object key string"],
    ['{"a":tru}', "invalid character '}' in literal true (expecting 'e')"],
    ['{"a":nul}', "invalid character '}' in literal null (expecting 'l')"],
    ['{"a":fals}', "invalid character '}' in literal false (expecting 'e')"],
    ['{"a":-}', "invalid character '}' in numeric literal"],
    ['{"a":01}', "invalid character '1' after object key:value pair"],
    ['{"a":1.}', "invalid character '}' after decimal point in numeric literal"],
    ['{"a":1.e5}', "invalid character 'e' after decimal point in numeric literal"],
    ['{"a":1e}', "invalid character '}' in exponent of numeric literal"],
    ['{"a":1e+}', "invalid character '}' in exponent of numeric literal"],
    ['{"a":"\\x"}', "invalid character 'x' in string escape code"],
    ['{"a":"\\u12g4"}', "invalid character 'g' in \\u hexadecimal character escape"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":1}}', "invalid character '}' after top-level value"],
    ['{"a":[1,]}', "invalid character ']' looking for beginning of value"],
    ['{"a":"b\n"}', "invalid character '\\n' in string literal"],
    ['{"a":1} x', "invalid character 'x' after top-level value"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['{"a":+1}', "invalid character '+' looking for beginning of value"],
    ['{"a":.5}', "invalid character '.' looking for beginning of value"],
    ['{"a":1.5e5x}', "invalid character 'x' after object key:value pair"],
    ['{"a":[{"b":[true,false,null,-0.5e-3]}],"c":"\\u00e9\\n"}', 'ok'],
  ])('%j → %s', (text, want) => {
    expect(syntaxError(text)).toBe(want);
  });

  it('accepts exactly what JSON.parse accepts on valid input', () => {
    expect(parseGoJson('{"name":"kubenet","n":[1,2.5,-3e2]}')).toEqual({ name: 'kubenet', n: [1, 2.5, -300] });
  });
});

describe('goQuote', () => {
  it.each([
    ['0.1.0', '"0.1.0"'],
    ['a "b"\n', '"a \\"b\\"\\n"'],
    ['tab\there', '"tab\\there"'],
    ['\u0001', '"\\x01"'],
    ['é', '"é"'],
    ['\u00a0', '"\\u00a0"'],
  ])('%j → %s', (s, want) => {
    expect(goQuote(s)).toBe(want);
  });

  it('quotes invalid UTF-8 bytes as \\xNN', () => {
    expect(goQuoteBytes(new Uint8Array([0x61, 0xff, 0xc3, 0xa9]))).toBe('"a\\xffé"');
  });

  it('prints a list as %q does', () => {
    expect(goQuoteList(['0.1.0', '1.0.0'])).toBe('["0.1.0" "1.0.0"]');
  });
});

describe('formatGoJsonIndent', () => {
  it('indents with four spaces and escapes <, > and & as Go does', () => {
    expect(formatGoJsonIndent({ code: 7, msg: 'a<b>&c', l: [], o: {} })).toBe(
      '{\n    "code": 7,\n    "msg": "a\\u003cb\\u003e\\u0026c",\n    "l": [],\n    "o": {}\n}',
    );
  });
});
