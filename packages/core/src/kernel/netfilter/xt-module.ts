import type { NetfilterFamily, NetfilterMatch, NetfilterTarget } from './netfilter-types.js';
import { paramError } from './restore-error.js';

/**
 * The shape shared by match and target extensions: the options they add to the command line,
 * how they parse them, and how iptables-save prints the result.
 *
 * @remarks Linux equivalent: `struct xtables_match` / `struct xtables_target` of libxtables
 * (options, `x6_parse`, `x6_fcheck`, `save`).
 */

/** One long option of an extension. `args` is how many words it consumes (0, 1 or 2). */
export interface XtOption {
  readonly name: string;
  readonly args: 0 | 1 | 2;
}

/** What an extension may look at while parsing: the rule's `-p` so far and the family. */
export interface XtParseContext {
  readonly protocol: number;
  readonly protocolInvert: boolean;
  /** `ipv4` (iptables) or `ipv6` (ip6tables). */
  readonly family: NetfilterFamily;
}

/** A match or target extension. `B` is its mutable parse state. */
export interface XtModule<B, R> {
  readonly name: string;
  readonly options: readonly XtOption[];
  /** Fresh parse state. */
  create(): B;
  /** Applies one option (name without `--`, with its arguments and the pending `!`). */
  parse(state: B, option: string, args: readonly string[], invert: boolean, ctx: XtParseContext): void;
  /** Final check and conversion (x6_fcheck). */
  finish(state: B, ctx: XtParseContext): R;
  /** The text iptables-save prints after `-m name` / `-j NAME` (each part with a leading space). */
  save(value: R): string;
}

/** A match extension. */
export type MatchModule<B = unknown> = XtModule<B, NetfilterMatch>;
/** A target extension. */
export type TargetModule<B = unknown> = XtModule<B, NetfilterTarget>;

/** x6 "can only be used once" check. */
export function once(ext: string, option: string, already: boolean): void {
  if (already) throw paramError(`${ext}: option "--${option}" can only be used once.\n`);
}

/** x6 "cannot be inverted" check. */
export function noInvert(ext: string, option: string, invert: boolean): void {
  if (invert) throw paramError(`${ext}: option "--${option}" cannot be inverted.\n`);
}

/** x6 "cannot be used together" error. */
export function together(ext: string, a: string, b: string): Error {
  return paramError(`${ext}: option "--${a}" cannot be used together with "--${b}".\n`);
}

/** Returns the first argument (the option parser guarantees it exists). */
export function arg0(args: readonly string[]): string {
  return args[0] ?? '';
}
