import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findFlockCommand } from './file-ipam-store.js';
import { createFlockHelper } from './flock-helper.js';

const flock = findFlockCommand();
const dir = mkdtempSync(join(tmpdir(), 'knet-flock-helper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether another process could take the lock right now (`flock -n`, exit 1 when held). */
function freeForOthers(path: string): boolean {
  return spawnSync(flock!, ['-n', path, 'true']).status === 0;
}

if (flock === undefined) console.log('FlockHelper tests skipped: flock(1) is not installed to check the lock from another process');

describe.skipIf(flock === undefined)('createFlockHelper', () => {
  it('holds flock(2) on the file until released, as another process sees it', async () => {
    const locks = createFlockHelper();
    const path = join(dir, 'lock');
    try {
      const hold = await locks.lock(path);
      expect(statSync(path).mode & 0o777).toBe(0o750);
      expect(freeForOthers(path)).toBe(false);
      await hold.release();
      expect(freeForOthers(path)).toBe(true);
    } finally {
      await locks.close();
    }
  });

  it('queues holders in this process, and waits for a holder in another process', async () => {
    const locks = createFlockHelper();
    const path = join(dir, 'queued');
    const order: string[] = [];
    try {
      const first = await locks.lock(path);
      const second = locks.lock(path).then((h) => {
        order.push('second');
        return h;
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(order).toEqual([]);
      order.push('first released');
      await first.release();
      await (await second).release();
      expect(order).toEqual(['first released', 'second']);
      // Another process holds it for 300 ms: the helper waits.
      const other = spawnSync('sh', ['-c', `(${flock!} -x ${path} sleep 0.3 &) ; sleep 0.05`], { stdio: 'ignore' });
      expect(other.status).toBe(0);
      const t0 = Date.now();
      await (await locks.lock(path)).release();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    } finally {
      await locks.close();
    }
  });

  it('releases everything when closed, and reports a lock file it cannot create', async () => {
    const locks = createFlockHelper();
    const path = join(dir, 'closed');
    await locks.lock(path);
    await locks.close();
    expect(freeForOthers(path)).toBe(true);
    const again = createFlockHelper();
    try {
      await expect(again.lock(join(dir, 'missing', 'lock'))).rejects.toMatchObject({ code: 'EIO' });
    } finally {
      await again.close();
    }
  });
});
