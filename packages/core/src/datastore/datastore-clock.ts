import { KnetError } from '../errors/knet-error.js';

/** Where a store or an agent reads the time: milliseconds on some fixed timeline. */
export interface DatastoreClock {
  now(): number;
}

/** A clock that moves only when told to: the simulation's explicit time. */
export interface ManualClock extends DatastoreClock {
  /** Moves the clock forward by `ms` milliseconds. @throws `EINVAL` for a negative step */
  advance(ms: number): void;
}

/**
 * A {@link ManualClock} starting at `startMs` (default 0).
 *
 * @remarks No wall-clock time inside the model: lease TTLs and renewals run against this clock,
 * so a test moves 24 hours forward in one call.
 * @example
 * ```ts
 * import { createManualClock } from '@knet/core';
 * const clock = createManualClock();
 * clock.advance(24 * 3600 * 1000);
 * clock.now(); // 86400000
 * ```
 */
export function createManualClock(startMs = 0): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number): void {
      if (!(ms >= 0)) throw new KnetError('EINVAL', 'the clock cannot go backwards', { ms });
      t += ms;
    },
  };
}
