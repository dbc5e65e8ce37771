/**
 * A set of pod indexes as a bitset (`Uint32Array`, bit `i` = pod `i`). The policy index keeps
 * one per policy subject and rule peer: 5,000 pods are 157 words, and union, intersection and
 * difference are word loops.
 */
export type PodSet = Uint32Array;

/** The number of 32-bit words a {@link PodSet} over `n` pods needs. */
export function podSetWords(n: number): number {
  return (n + 31) >>> 5;
}

/** An empty {@link PodSet} over `n` pods. */
export function emptyPodSet(n: number): PodSet {
  return new Uint32Array(podSetWords(n));
}

/** A {@link PodSet} holding every pod `0..n-1`. */
export function fullPodSet(n: number): PodSet {
  const s = new Uint32Array(podSetWords(n));
  s.fill(0xffffffff);
  const tail = n & 31;
  if (tail !== 0) s[s.length - 1] = (1 << tail) - 1;
  return s;
}

/** True when pod `i` is in the set. */
export function podSetHas(s: PodSet, i: number): boolean {
  return (((s[i >>> 5] as number) >>> (i & 31)) & 1) === 1;
}

/** Adds pod `i`. */
export function podSetAdd(s: PodSet, i: number): void {
  s[i >>> 5] = ((s[i >>> 5] as number) | (1 << (i & 31))) >>> 0;
}

/** A set holding the given pod indexes. */
export function podSetOf(n: number, indexes: Iterable<number>): PodSet {
  const s = emptyPodSet(n);
  for (const i of indexes) podSetAdd(s, i);
  return s;
}

/** `dst |= src`. */
export function podSetOrInto(dst: PodSet, src: PodSet): void {
  for (let w = 0; w < dst.length; w++) dst[w] = ((dst[w] as number) | (src[w] as number)) >>> 0;
}

/** `dst &= src`. */
export function podSetAndInto(dst: PodSet, src: PodSet): void {
  for (let w = 0; w < dst.length; w++) dst[w] = ((dst[w] as number) & (src[w] as number)) >>> 0;
}

/** `dst &= ~src`. */
export function podSetAndNotInto(dst: PodSet, src: PodSet): void {
  for (let w = 0; w < dst.length; w++) dst[w] = ((dst[w] as number) & ~(src[w] as number)) >>> 0;
}

/** True when the set holds no pod. */
export function podSetIsEmpty(s: PodSet): boolean {
  for (let w = 0; w < s.length; w++) if (s[w] !== 0) return false;
  return true;
}

/** The number of pods in the set. */
export function podSetCount(s: PodSet): number {
  let c = 0;
  for (let w = 0; w < s.length; w++) {
    let v = (s[w] as number) >>> 0;
    v -= (v >>> 1) & 0x55555555;
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    c += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
  }
  return c;
}

/** The pod indexes in the set, ascending. */
export function podSetToArray(s: PodSet): number[] {
  const out: number[] = [];
  for (let w = 0; w < s.length; w++) {
    let v = (s[w] as number) >>> 0;
    while (v !== 0) {
      const low = v & -v;
      out.push((w << 5) + (31 - Math.clz32(low)));
      v = (v ^ low) >>> 0;
    }
  }
  return out;
}
