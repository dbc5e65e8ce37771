/**
 * JSON as the Go side of CNI reads and writes it: the syntax errors of `encoding/json`'s scanner
 * (`invalid character 'x' looking for beginning of value`, `unexpected end of JSON input`), the
 * indented output of `json.MarshalIndent(v, "", "    ")` with Go's HTML-safe escapes, and
 * `strconv.Quote` / `%q` for messages. CNI plugins and runtimes put these texts into their error
 * messages, so a knet plugin prints what a Go plugin prints.
 *
 * @see go src/encoding/json/scanner.go, encode.go
 * @see go src/strconv/quote.go
 */

/** The message of a Go `*json.SyntaxError`, or of the unexpected-end error. */
export class GoJsonSyntaxError extends Error {
  /** Byte offset after the offending character (Go's `Offset`). */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'GoJsonSyntaxError';
    this.offset = offset;
  }
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isHex(c: string): boolean {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** One rune as `strconv.Quote` writes it, without the surrounding quotes. */
function quoteRune(cp: number, quote: string): string {
  const ch = String.fromCodePoint(cp);
  if (ch === quote || ch === '\\') return `\\${ch}`;
  if (PRINTABLE.test(ch)) return ch;
  switch (ch) {
    case '\x07':
      return '\\a';
    case '\b':
      return '\\b';
    case '\f':
      return '\\f';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\v':
      return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp < 0x10000) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

/**
 * Go's `strconv.Quote` (what `%q` prints for a string): double quotes, Go escapes, printable
 * Unicode kept as it is.
 *
 * @example
 * ```ts
 * import { goQuote } from '@knet/core';
 * goQuote('a "b"\n'); // '"a \\"b\\"\\n"'
 * ```
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteRune(ch.codePointAt(0) as number, '"');
  return `${out}"`;
}

/**
 * `%q` of a byte slice: like {@link goQuote}, with every byte that is not valid UTF-8 written as
 * `\xNN`, as Go does.
 */
export function goQuoteBytes(bytes: Uint8Array): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let cp = -1;
    let len = 1;
    if (b < 0x80) {
      cp = b;
    } else {
      len = b >= 0xf0 && b < 0xf5 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
      if (len > 0 && i + len <= bytes.length) {
        let v = len === 2 ? b & 0x1f : len === 3 ? b & 0x0f : b & 0x07;
        let ok = true;
        for (let k = 1; k < len; k++) {
          const c = bytes[i + k] as number;
          if ((c & 0xc0) !== 0x80) ok = false;
          v = (v << 6) | (c & 0x3f);
        }
        const min = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000;
        if (ok && v >= min && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) cp = v;
      }
      if (cp < 0) len = 1;
    }
    out += cp < 0 ? `\\x${hex(b, 2)}` : quoteRune(cp, '"');
    i += len;
  }
  return `${out}"`;
}

/**
 * `fmt.Sprintf("%q", []string{...})`: the quoted strings, space-separated, in brackets —
 * `["0.1.0" "0.2.0"]`, as skel's "plugin supports" details print them.
 */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** `fmt.Sprintf("%s", []string{...})`: `[a b c]`, as libcni's "failed to find plugin" prints paths. */
export function goStringList(list: readonly string[]): string {
  return `[${list.join(' ')}]`;
}

/** The `'x'` form Go's scanner uses to name a character in a syntax error (`quoteChar`). */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return '\'"\'';
  return `'${quoteRune(c.codePointAt(0) as number, '"')}'`;
}

/**
 * Checks `text` with Go's JSON scanner and throws the error `encoding/json` would report first.
 *
 * @remarks The grammar is RFC 8259's, so text that passes parses identically with `JSON.parse`.
 * Go's nesting limit (10000) is enforced with its message `exceeded max depth`.
 * @throws GoJsonSyntaxError with Go's message.
 * @see go src/encoding/json/scanner.go
 */
export function checkGoJson(text: string): void {
  const stack: ('object-key' | 'object-value' | 'array')[] = [];
  let i = 0;
  const n = text.length;
  const fail = (context: string): never => {
    throw new GoJsonSyntaxError(`invalid character ${quoteChar(text[i] as string)} ${context}`, i + 1);
  };
  const eof = (): never => {
    throw new GoJsonSyntaxError('unexpected end of JSON input', n);
  };
  const skipSpace = (): void => {
    while (i < n && isSpace(text[i] as string)) i++;
  };

  const literal = (word: string): void => {
    for (let k = 1; k < word.length; k++) {
      i++;
      if (i >= n) eof();
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting '${word[k]}')`);
    }
    i++;
  };

  const number = (): void => {
    if (text[i] === '-') {
      i++;
      if (i >= n) eof();
      if (!isDigit(text[i] as string)) fail('in numeric literal');
    }
    if (text[i] === '0') {
      i++;
    } else {
      while (i < n && isDigit(text[i] as string)) i++;
    }
    if (i < n && text[i] === '.') {
      i++;
      if (i >= n) eof();
      if (!isDigit(text[i] as string)) fail('after decimal point in numeric literal');
      while (i < n && isDigit(text[i] as string)) i++;
    }
    if (i < n && (text[i] === 'e' || text[i] === 'E')) {
      i++;
      if (i < n && (text[i] === '+' || text[i] === '-')) i++;
      if (i >= n) eof();
      if (!isDigit(text[i] as string)) fail('in exponent of numeric literal');
      while (i < n && isDigit(text[i] as string)) i++;
    }
  };

  const string = (): void => {
    i++;
    for (;;) {
      if (i >= n) eof();
      const c = text[i] as string;
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        i++;
        if (i >= n) eof();
        const e = text[i] as string;
        if ('bfnrt\\/"'.includes(e)) {
          i++;
          continue;
        }
        if (e !== 'u') fail('in string escape code');
        for (let k = 0; k < 4; k++) {
          i++;
          if (i >= n) eof();
          if (!isHex(text[i] as string)) fail('in \\u hexadecimal character escape');
        }
        i++;
        continue;
      }
      if (c < ' ') fail('in string literal');
      i++;
    }
  };

  // A value starts here (after optional space); returns after the value's last character.
  const beginValue = (): void => {
    skipSpace();
    if (i >= n) eof();
    const c = text[i] as string;
    switch (c) {
      case '{':
        i++;
        if (stack.length >= 10000) throw new GoJsonSyntaxError('exceeded max depth', i);
        skipSpace();
        if (i >= n) eof();
        if (text[i] === '}') {
          i++;
          return;
        }
        if (text[i] !== '"') fail('looking for beginning of object key string');
        stack.push('object-key');
        string();
        return;
      case '[':
        i++;
        if (stack.length >= 10000) throw new GoJsonSyntaxError('exceeded max depth', i);
        skipSpace();
        if (i >= n) eof();
        if (text[i] === ']') {
          i++;
          return;
        }
        stack.push('array');
        beginValue();
        return;
      case '"':
        string();
        return;
      case 't':
        literal('true');
        return;
      case 'f':
        literal('false');
        return;
      case 'n':
        literal('null');
        return;
      default:
        if (c === '-' || isDigit(c)) {
          number();
          return;
        }
        fail('looking for beginning of value');
    }
  };

  beginValue();
  for (;;) {
    skipSpace();
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (i < n) fail('after top-level value');
      return;
    }
    if (i >= n) eof();
    const c = text[i] as string;
    if (top === 'object-key') {
      if (c !== ':') fail('after object key');
      i++;
      stack[stack.length - 1] = 'object-value';
      beginValue();
    } else if (top === 'object-value') {
      if (c === ',') {
        i++;
        skipSpace();
        if (i >= n) eof();
        if (text[i] !== '"') fail('looking for beginning of object key string');
        stack[stack.length - 1] = 'object-key';
        string();
      } else if (c === '}') {
        i++;
        stack.pop();
      } else {
        fail('after object key:value pair');
      }
    } else if (c === ',') {
      i++;
      beginValue();
    } else if (c === ']') {
      i++;
      stack.pop();
    } else {
      fail('after array element');
    }
  }
}

/**
 * Parses JSON, failing as Go's `json.Unmarshal` does on syntax errors.
 *
 * @throws GoJsonSyntaxError with Go's message.
 * @example
 * ```ts
 * import { parseGoJson } from '@knet/core';
 * parseGoJson('{"name":"kubenet"}'); // { name: 'kubenet' }
 * // parseGoJson('{"name":') throws "unexpected end of JSON input"
 * ```
 */
export function parseGoJson(text: string): unknown {
  checkGoJson(text);
  return JSON.parse(text) as unknown;
}

/**
 * The name Go's `*json.UnmarshalTypeError` gives a JSON value (`number`, `string`, `bool`,
 * `array`, `object`), used in `json: cannot unmarshal <kind> into Go struct field ...`.
 */
export function goJsonKind(value: unknown): string {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'array';
  return 'object';
}

/**
 * `json: cannot unmarshal <kind> into Go struct field <Struct>.<field> of type <type>`: the text
 * of the type error Go's decoder reports when a field has the wrong JSON type.
 */
export function goUnmarshalTypeMessage(value: unknown, struct: string, field: string, goType: string): string {
  return `json: cannot unmarshal ${goJsonKind(value)} into Go struct field ${struct}.${field} of type ${goType}`;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * `json.MarshalIndent(v, "", "    ")`: four-space indentation, no trailing newline, and Go's
 * HTML-safe escapes (`<` → `\u003c`, `>`, `&`, U+2028, U+2029). Key order is the object's.
 *
 * @remarks Those characters can only occur inside JSON strings, so replacing them in the output
 * is exact.
 */
export function formatGoJsonIndent(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(/[<>&\u2028\u2029]/g, (c) => HTML_ESCAPES[c] as string);
}

/** `json.Marshal(v)`: compact, with Go's HTML-safe escapes. */
export function formatGoJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => HTML_ESCAPES[c] as string);
}
