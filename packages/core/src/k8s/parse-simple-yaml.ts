/**
 * Parses the plain YAML subset that `kubectl get -o yaml` and hand-written manifests use, fast;
 * returns `undefined` as soon as the text leaves that subset, so the caller falls back to the
 * `yaml` package (which then also reports any syntax error with its line and column).
 *
 * @remarks
 * - Why: the `yaml` package parses about 1 MB/s here, so a 30,000-pod dump took seconds; this
 *   subset parser is an order of magnitude faster. It never decides anything the `yaml` package
 *   would decide differently: results are cross-checked against it in tests, and whatever is
 *   not certain is handed back.
 * - The subset: `---` document markers; block mappings and sequences indented with spaces
 *   (including `- key: value` items and sequences at their parent key's indentation); single-line
 *   plain, single-quoted and double-quoted scalars; literal block scalars `|` and `|-`; `{}`,
 *   `[]` and flat flow sequences of scalars; full-line and trailing comments.
 * - Scalars resolve as in the YAML 1.2 core schema the `yaml` package uses: `null`/`~`/empty,
 *   `true`/`false` (three spellings each), decimal integers, floats; everything else is a string.
 * - Handed back: tabs, CR characters, `%` directives, `...` markers, anchors, aliases, tags,
 *   folded scalars, multi-line flow or quoted scalars, plain scalars continued on the next line,
 *   complex and merge keys, duplicate keys, hex/octal/infinite numbers.
 * - Linux equivalent: none.
 * @returns one value per document (`null` for an empty one), as `parseAllDocuments(...).map(d => d.toJS())`
 * would give, or `undefined`.
 * @see https://yaml.org/spec/1.2.2/ sections 8-10
 */
export function parseSimpleYaml(text: string): unknown[] | undefined {
  if (text.includes('\t') || text.includes('\r')) return undefined;
  const lines = text.split('\n');
  const docs: unknown[] = [];
  let start = 0;
  let sawMarker = false;
  for (let i = 0; i <= lines.length; i++) {
    const line = i < lines.length ? (lines[i] as string) : undefined;
    if (line !== undefined) {
      const c0 = line.charCodeAt(0);
      if (c0 === 0x25 /* % */) return undefined;
      if (line.startsWith('...')) return undefined;
      if (!(line.startsWith('---') && (line.length === 3 || line[3] === ' '))) continue;
      // Only a comment may follow the marker on its line.
      const rest = line.slice(3).trim();
      if (rest !== '' && !rest.startsWith('#')) return undefined;
    }
    const segment = lines.slice(start, i);
    const hasContent = segment.some((l) => !isBlankOrComment(l));
    if (sawMarker || hasContent) {
      const value = parseDocument(segment);
      if (value === FAIL) return undefined;
      docs.push(value);
    }
    sawMarker = true;
    start = i + 1;
  }
  return docs;
}

const FAIL: unique symbol = Symbol('fail');
type Result = unknown;

function isBlankOrComment(line: string): boolean {
  for (let k = 0; k < line.length; k++) {
    const c = line.charCodeAt(k);
    if (c === 0x20) continue;
    return c === 0x23; // '#'
  }
  return true;
}

interface Line {
  indent: number;
  text: string;
  /** Index in the document's raw lines, for block scalars. */
  readonly raw: number;
}

class Fail extends Error {}

function parseDocument(raw: readonly string[]): Result {
  const lines: Line[] = [];
  for (let r = 0; r < raw.length; r++) {
    const l = raw[r] as string;
    if (isBlankOrComment(l)) continue;
    let indent = 0;
    while (l.charCodeAt(indent) === 0x20) indent++;
    lines.push({ indent, text: l.slice(indent).replace(/ +$/, ''), raw: r });
  }
  if (lines.length === 0) return null;
  const p = new DocParser(raw, lines);
  try {
    const first = lines[0] as Line;
    const v = p.block(first.indent);
    if (p.pos !== lines.length) return FAIL;
    return v;
  } catch (e) {
    if (e instanceof Fail) return FAIL;
    throw e;
  }
}

class DocParser {
  pos = 0;
  constructor(
    private readonly raw: readonly string[],
    private readonly lines: Line[],
  ) {}

  private fail(): never {
    throw new Fail();
  }

  /** A block node (mapping, sequence or a lone scalar) whose first line is at `indent`. */
  block(indent: number): Result {
    const line = this.lines[this.pos];
    if (line === undefined || line.indent !== indent) this.fail();
    if (isSeqItem(line.text)) return this.sequence(indent);
    if (splitKey(line.text) !== undefined) return this.mapping(indent);
    // A lone scalar (a document that is just `null`, or an item's value on its own line).
    this.pos++;
    const v = inlineValue(line.text);
    if (v === FAIL || v === BLOCK_SCALAR) this.fail();
    this.expectEnd(indent);
    return v;
  }

  /** After a one-line value, the next line must not be more indented (no continuation lines). */
  private expectEnd(indent: number): void {
    const next = this.lines[this.pos];
    if (next !== undefined && next.indent > indent) this.fail();
  }

  mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      const line = this.lines[this.pos];
      if (line === undefined || line.indent !== indent || isSeqItem(line.text)) break;
      const kv = splitKey(line.text);
      if (kv === undefined) this.fail();
      const key = kv.key;
      if (key === '__proto__' || key === '<<' || Object.prototype.hasOwnProperty.call(out, key)) this.fail();
      this.pos++;
      if (kv.value === '' || kv.value.startsWith('#')) {
        const next = this.lines[this.pos];
        if (next !== undefined && next.indent > indent) out[key] = this.block(next.indent);
        else if (next !== undefined && next.indent === indent && isSeqItem(next.text)) out[key] = this.sequence(indent);
        else out[key] = null;
        continue;
      }
      const v = inlineValue(kv.value);
      if (v === FAIL) this.fail();
      if (v === BLOCK_SCALAR) {
        out[key] = this.blockScalar(kv.value, line, indent);
        continue;
      }
      out[key] = v;
      this.expectEnd(indent);
    }
    return out;
  }

  sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const line = this.lines[this.pos];
      if (line === undefined || line.indent !== indent || !isSeqItem(line.text)) break;
      if (line.text === '-') {
        this.pos++;
        const next = this.lines[this.pos];
        out.push(next !== undefined && next.indent > indent ? this.block(next.indent) : null);
        continue;
      }
      // `- rest`: the item starts at the first non-space after the dash.
      let k = 1;
      while (line.text.charCodeAt(k) === 0x20) k++;
      const rest = line.text.slice(k);
      if (isSeqItem(rest) || rest.startsWith('#')) this.fail();
      const itemIndent = indent + k;
      if (splitKey(rest) !== undefined) {
        // A compact mapping: re-read this line as the mapping's first entry.
        line.indent = itemIndent;
        line.text = rest;
        out.push(this.mapping(itemIndent));
        continue;
      }
      this.pos++;
      const v = inlineValue(rest);
      if (v === FAIL) this.fail();
      if (v === BLOCK_SCALAR) {
        out.push(this.blockScalar(rest, line, indent));
        continue;
      }
      out.push(v);
      this.expectEnd(indent);
    }
    return out;
  }

  /** A literal block scalar (`|` clip or `|-` strip) whose parent node is at `parentIndent`. */
  private blockScalar(header: string, line: Line, parentIndent: number): string {
    const strip = header.startsWith('|-');
    // Raw lines after the header, up to the first non-blank line indented at most parentIndent.
    let r = line.raw + 1;
    let blockIndent = -1;
    const parts: string[] = [];
    let trailingBlank = 0;
    for (; r < this.raw.length; r++) {
      const l = this.raw[r] as string;
      let n = 0;
      while (l.charCodeAt(n) === 0x20) n++;
      if (n === l.length) {
        // A whitespace-only line: kept as an empty line unless it has more spaces than the block.
        if (blockIndent >= 0 && n > blockIndent) this.fail();
        trailingBlank++;
        continue;
      }
      if (blockIndent < 0) {
        if (n <= parentIndent) break;
        if (trailingBlank > 0) this.fail(); // leading blank lines: leave to the yaml package
        blockIndent = n;
      } else if (n < blockIndent) {
        break;
      }
      for (; trailingBlank > 0; trailingBlank--) parts.push('');
      parts.push(l.slice(blockIndent));
    }
    // Structural lines consumed by the block scalar are skipped.
    while (this.pos < this.lines.length && (this.lines[this.pos] as Line).raw < r) this.pos++;
    if (parts.length === 0) return '';
    const body = parts.join('\n');
    return strip ? body : `${body}\n`;
  }
}

const BLOCK_SCALAR: unique symbol = Symbol('block-scalar');

function isSeqItem(text: string): boolean {
  return text.charCodeAt(0) === 0x2d /* - */ && (text.length === 1 || text.charCodeAt(1) === 0x20);
}

/** Characters that may not start a plain scalar (or that need handling we leave to the yaml package). */
const PLAIN_START_FORBIDDEN = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

/** Splits `key: value` (value may be empty); `undefined` when the text is not a mapping entry. */
function splitKey(text: string): { key: string; value: string } | undefined {
  const c = text[0];
  if (c === '"' || c === "'") {
    const q = quoted(text, 0);
    if (q === undefined) return undefined;
    let k = q.end;
    while (text.charCodeAt(k) === 0x20) k++;
    if (text[k] !== ':') return undefined;
    if (k + 1 < text.length && text[k + 1] !== ' ') return undefined;
    return { key: q.value, value: text.slice(k + 1).trim() };
  }
  if (c === undefined || PLAIN_START_FORBIDDEN.has(c)) return undefined;
  for (let k = 0; k < text.length; k++) {
    const ch = text.charCodeAt(k);
    if (ch === 0x3a /* : */ && (k + 1 === text.length || text.charCodeAt(k + 1) === 0x20)) {
      const key = text.slice(0, k).replace(/ +$/, '');
      // Keys that resolve to null, booleans or numbers are left to the yaml package.
      if (key.includes(' #') || resolvePlain(key) !== key) return undefined;
      return { key, value: text.slice(k + 1).trim() };
    }
    if (ch === 0x20 && text.charCodeAt(k + 1) === 0x23 /* ' #' */) return undefined;
  }
  return undefined;
}

/** The value on a line after `key:` or `- `: a scalar, `{}`, `[]`, a flat flow sequence, or a block-scalar header. */
function inlineValue(text: string): unknown {
  const c = text[0];
  if (c === '"' || c === "'") {
    const q = quoted(text, 0);
    if (q === undefined || !onlyComment(text, q.end)) return FAIL;
    return q.value;
  }
  if (c === '|') {
    return /^\|-?( +#.*)?$/.test(text) ? BLOCK_SCALAR : FAIL;
  }
  if (c === '{') return /^\{\}( +#.*)?$/.test(text) ? {} : FAIL;
  if (c === '[') return flowSequence(text);
  // `-5` and `--flag` are plain scalars; `- x` would be a sequence, which is not allowed here.
  const dashScalar = c === '-' && text.length > 1 && text[1] !== ' ';
  if (c === undefined || (PLAIN_START_FORBIDDEN.has(c) && !dashScalar)) return FAIL;
  // A plain scalar runs to the end of the line or to ` #`.
  let end = text.length;
  const hash = text.indexOf(' #');
  if (hash >= 0) end = hash;
  const s = text.slice(0, end).replace(/ +$/, '');
  if (s.includes(': ') || s.endsWith(':')) return FAIL;
  return resolvePlain(s);
}

function onlyComment(text: string, from: number): boolean {
  let k = from;
  while (text.charCodeAt(k) === 0x20) k++;
  return k === text.length || (text.charCodeAt(k) === 0x23 && k > from);
}

/** `[a, "b", 'c']` with scalar items only. */
function flowSequence(text: string): unknown {
  const out: unknown[] = [];
  let k = 1;
  const skip = (): void => {
    while (text.charCodeAt(k) === 0x20) k++;
  };
  skip();
  if (text[k] === ']') return onlyComment(text, k + 1) ? out : FAIL;
  for (;;) {
    skip();
    const c = text[k];
    if (c === '"' || c === "'") {
      const q = quoted(text, k);
      if (q === undefined) return FAIL;
      out.push(q.value);
      k = q.end;
    } else {
      const start = k;
      while (k < text.length && !',[]{}#:'.includes(text[k] as string)) k++;
      const item = text.slice(start, k).trim();
      if (item === '' || PLAIN_START_FORBIDDEN.has(item[0] as string)) return FAIL;
      const v = resolvePlain(item);
      if (v === FAIL) return FAIL;
      out.push(v);
    }
    skip();
    if (text[k] === ',') {
      k++;
      continue;
    }
    if (text[k] === ']') return onlyComment(text, k + 1) ? out : FAIL;
    return FAIL;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  '"': '"',
  '/': '/',
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  '0': '\0',
};

/** A single-line quoted scalar starting at `from`; `end` is the index after the closing quote. */
function quoted(text: string, from: number): { value: string; end: number } | undefined {
  const q = text[from];
  let out = '';
  let k = from + 1;
  if (q === "'") {
    for (;;) {
      const j = text.indexOf("'", k);
      if (j < 0) return undefined;
      out += text.slice(k, j);
      if (text[j + 1] === "'") {
        out += "'";
        k = j + 2;
        continue;
      }
      return { value: out, end: j + 1 };
    }
  }
  for (;;) {
    const c = text[k];
    if (c === undefined) return undefined;
    if (c === '"') return { value: out, end: k + 1 };
    if (c === '\\') {
      const e = text[k + 1];
      if (e === 'u') {
        const hex = text.slice(k + 2, k + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return undefined;
        const code = parseInt(hex, 16);
        if (code >= 0xd800 && code <= 0xdfff) return undefined;
        out += String.fromCharCode(code);
        k += 6;
        continue;
      }
      const r = e === undefined ? undefined : ESCAPES[e];
      if (r === undefined) return undefined;
      out += r;
      k += 2;
      continue;
    }
    out += c;
    k++;
  }
}

const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/** YAML 1.2 core schema resolution of a plain scalar, or FAIL where the subset stops. */
function resolvePlain(s: string): unknown {
  switch (s) {
    case '':
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
  }
  const c = s.charCodeAt(0);
  const numeric = (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
  if (!numeric) return s;
  if (INT.test(s)) return s.length <= 15 ? Number(s) : FAIL;
  if (FLOAT.test(s)) return s.length <= 15 ? Number(s) : FAIL;
  // `0x1f`, `0o17`, `.inf`, `.nan` and friends: leave to the yaml package.
  if (/^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(s) || /^0[xo]/.test(s)) return FAIL;
  return s;
}
