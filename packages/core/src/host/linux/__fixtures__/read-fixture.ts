/** Reads a golden fixture of this folder, checking and dropping its `# command:` header line. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CORE_FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/iproute2/', import.meta.url));
const HEADER = /^# command: .*\b(ip|bridge) .+ ; iproute2 \d+\.\d+\.\d+ ; linux \S+$/;

function read(path: string): string {
  const raw = readFileSync(path, 'utf8');
  const nl = raw.indexOf('\n');
  const header = raw.slice(0, nl);
  if (!HEADER.test(header)) throw new Error(`${path}: bad fixture header "${header}"`);
  return raw.slice(nl + 1);
}

/** A fixture captured by ./capture.sh. */
export function readLinuxFixture(name: string): string {
  return read(`${HERE}${name}`);
}

/** A fixture of packages/core/test/fixtures/iproute2 (captured by its capture.sh). */
export function readIproute2Fixture(name: string): string {
  return read(`${CORE_FIXTURES}${name}`);
}
