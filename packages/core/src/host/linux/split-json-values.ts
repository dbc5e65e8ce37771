import { KnetError } from '../../errors/knet-error.js';

/**
 * Parses text holding several JSON documents one after another, as `ip -j -batch -` prints
 * them (one array per batch line). Whitespace between documents is ignored.
 *
 * @throws KnetError `EPARSE` when a document is malformed or incomplete.
 * @example
 * ```ts
 * import { splitJsonValues } from '@knet/core/linux';
 * splitJsonValues('[{"ifindex":1}]\n[]\n'); // [[{ ifindex: 1 }], []]
 * ```
 */
export function splitJsonValues(text: string): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const c = text[i]!;
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '[' || c === '{') depth++;
      else if (c === ']' || c === '}') {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      } else if (depth === 0 && /\s/.test(c)) break;
    }
    const doc = text.slice(start, i);
    try {
      out.push(JSON.parse(doc));
    } catch (e) {
      throw new KnetError('EPARSE', `malformed JSON from a tool at offset ${start}: ${(e as Error).message}`, { offset: start });
    }
  }
  return out;
}
