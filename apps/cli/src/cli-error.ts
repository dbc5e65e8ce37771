/**
 * A command-line usage error: printed as one line with a hint, exit status 2
 * (as getopt-style tools do for bad usage).
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
