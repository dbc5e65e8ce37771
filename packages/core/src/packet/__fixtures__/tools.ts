/**
 * Test helpers that run real capture tools (tcpdump, tshark) on files the writers produce.
 * A missing tool is reported with a reason, so the tests that need it skip visibly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TSHARK = '/usr/bin/tshark';

/** The absolute path of `tool` if it is installed (searched on PATH and sbin dirs). */
export function findTool(tool: string): string | undefined {
  if (tool.includes('/')) return existsSync(tool) ? tool : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) {
    if (d !== '' && existsSync(join(d, tool))) return join(d, tool);
  }
  return undefined;
}

/** Why tests that need `tool` cannot run, or `undefined` when they can. */
export function missingToolReason(tool: string): string | undefined {
  return findTool(tool) === undefined ? `${tool} is not installed (apt-get install -y ${tool})` : undefined;
}

/** Writes `bytes` to a temporary file, runs `tool args... FILE`-style commands on it, returns stdout. */
export function runOnFile(tool: string, bytes: Uint8Array, name: string, args: (file: string) => string[]): string {
  const path = findTool(tool);
  if (path === undefined) throw new Error(`${tool} is not installed`);
  const dir = mkdtempSync(join(tmpdir(), 'knet-packet-'));
  const file = join(dir, name);
  try {
    writeFileSync(file, bytes);
    return execFileSync(path, args(file), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
