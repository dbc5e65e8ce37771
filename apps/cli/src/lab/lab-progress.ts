/** Reports the steps of a long lab operation. */
export interface LabProgress {
  /** One step done: `[done/total] what`. */
  step(done: number, total: number, what: string): void;
  /** The operation finished (a terminal gets its last line ended). */
  end(): void;
}

/**
 * Progress on a stream: `[12/34] pod shop/cart-5d8b9c7f6-hv4nx`, one line per step, or on a
 * terminal one line rewritten in place.
 */
export function streamProgress(stream: { write(s: string): unknown; isTTY?: boolean }): LabProgress {
  const tty = stream.isTTY === true;
  let open = false;
  return {
    step(done, total, what) {
      const width = String(total).length;
      const line = `[${String(done).padStart(width)}/${total}] ${what}`;
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        open = true;
      } else stream.write(`${line}\n`);
    },
    end() {
      if (open) stream.write('\n');
      open = false;
    },
  };
}

/** Progress that goes nowhere. */
export const NO_PROGRESS: LabProgress = { step: () => undefined, end: () => undefined };
