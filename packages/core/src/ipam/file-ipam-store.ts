import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KnetError } from '../errors/knet-error.js';
import { formatIpv4, tryParseIpv4 } from '../ip/ipv4.js';
import { DEFAULT_HOST_LOCAL_DATA_DIR, formatIpamReservation, LAST_RESERVED_IP_PREFIX } from './ipam-store.js';
import type { IpamReservation, IpamStore } from './ipam-store.js';

/**
 * How a {@link FileIpamStore} takes its lock.
 *
 * - `flock`: an exclusive `flock(2)` on `<dir>/lock`, the lock the reference host-local takes,
 *   so knet and the reference plugin exclude each other. Taken through util-linux `flock(1)` on
 *   an inherited descriptor (Node has no `flock`).
 * - `lockfile`: `<dir>/lock.knet` created with `O_CREAT|O_EXCL` and holding the owner's pid;
 *   a file left by a dead process is taken over. Excludes knet processes only.
 * - `auto` (default): `flock` when `flock(1)` is installed, else `lockfile`.
 * - `held`: the caller holds the `flock(2)` on `<dir>/lock` for as long as it uses the store (an
 *   agent that takes it before an invocation, see `FlockHelper`); `lock()` only keeps the store
 *   from being entered twice.
 *
 * @see docs/decisions/0004-host-local-lock-through-flock1.md
 */
export type FileIpamLocking = 'flock' | 'lockfile' | 'auto' | 'held';

/** Options of {@link FileIpamStore}. */
export interface FileIpamStoreOptions {
  /** Default `/var/lib/cni/networks`. */
  readonly dataDir?: string;
  /** Default `auto`. */
  readonly locking?: FileIpamLocking;
  /**
   * Give up waiting for the lock after this long and throw `EBUSY` with `details.reason`
   * `lock-timeout`. Default: wait as long as it takes, as the reference plugin does.
   */
  readonly lockTimeoutMs?: number;
}

/** The name of the fallback lock file (knet processes only). */
export const IPAM_LOCKFILE_NAME = 'lock.knet';

const FLOCK_CANDIDATES = ['/usr/bin/flock', '/bin/flock', '/usr/sbin/flock', '/sbin/flock', '/usr/local/bin/flock'];

/** Where util-linux (or busybox) `flock(1)` is installed, or `undefined`. */
export function findFlockCommand(): string | undefined {
  return FLOCK_CANDIDATES.find((p) => existsSync(p));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Whether process `pid` exists (`kill(pid, 0)`; `EPERM` means it does, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * host-local's disk store: the directory `<dataDir>/<network>/` in the reference plugin's format,
 * so that knet and `/opt/cni/bin/host-local` can share it.
 *
 * @remarks
 * Linux equivalent: host-local's `backend/disk`. The directory (mode 0755) holds:
 * - one file per reserved IP, named by the IP, mode 0600, content `<containerID>\r\n<ifname>`
 *   (no trailing newline). It is created with `O_CREAT|O_EXCL`, which is the reservation: when
 *   the file exists the address is taken.
 * - `last_reserved_ip.<rangeSetIndex>`: the last IP reserved from that range set. knet writes
 *   it to a temporary name and renames it over the old one, so a crash never leaves it half
 *   written (the reference plugin writes it in place).
 * - `lock`: empty, mode 0750 (go-filemutex's), locked with `flock(2)` around every operation.
 *
 * Lookups read every file whose name is an IPv4 address and compare its trimmed content with
 * `<id>\r\n<ifname>`, then with the legacy `<id>` (files written before ifnames were recorded).
 * The reference walks every file; knet skips `lock` and `last_reserved_ip.N`, whose contents
 * cannot be a reservation. Mutual exclusion with the reference plugin needs `flock(1)`
 * (util-linux, or busybox); see {@link FileIpamLocking}.
 *
 * @see containernetworking/plugins plugins/ipam/host-local/backend/disk/backend.go, disk/lock.go
 * @example
 * ```ts
 * import { hostLocalAdd, parseHostLocalConf } from '@knet/core';
 * import { FileIpamStore } from '@knet/core/linux';
 * const conf = parseHostLocalConf({ name: 'kubenet', cniVersion: '1.0.0',
 *   ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], dataDir: '/tmp/knet-ipam' } });
 * const store = new FileIpamStore(conf.name, { dataDir: conf.dataDir });
 * hostLocalAdd(conf, store, { containerId: 'c1', ifname: 'eth0' }).ips[0]?.address; // '10.244.1.2/24'
 * ```
 */
export class FileIpamStore implements IpamStore {
  /** `<dataDir>/<network>`. */
  readonly dir: string;
  /** The lock this store takes (`auto` resolved). */
  readonly locking: 'flock' | 'lockfile' | 'held';
  private readonly flock: string | undefined;
  private readonly lockTimeoutMs: number | undefined;
  private lockFd: number | undefined;
  private lockFileHeld = false;
  private heldEntered = false;

  /**
   * Opens (creating it if needed) the store of `network`.
   *
   * @throws KnetError `EOPNOTSUPP` when `locking` is `flock` and `flock(1)` is not installed;
   * `EIO` when the directory cannot be created.
   */
  constructor(network: string, options: FileIpamStoreOptions = {}) {
    this.dir = join(options.dataDir ?? DEFAULT_HOST_LOCAL_DATA_DIR, network);
    const mode = options.locking ?? 'auto';
    this.flock = mode === 'lockfile' || mode === 'held' ? undefined : findFlockCommand();
    if (mode === 'flock' && this.flock === undefined) {
      throw new KnetError('EOPNOTSUPP', 'flock(1) is not installed: knet needs it to share host-local state with the reference plugin', {
        candidates: FLOCK_CANDIDATES,
      });
    }
    this.locking = mode === 'held' ? 'held' : this.flock === undefined ? 'lockfile' : 'flock';
    this.lockTimeoutMs = options.lockTimeoutMs;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw new KnetError('EIO', `failed to create ${this.dir}: ${(e as Error).message}`, { dir: this.dir });
    }
  }

  /**
   * Takes the exclusive lock, waiting while another process holds it.
   *
   * @throws KnetError `EBUSY` when this store already holds it (a second `flock` from the same
   * process would wait forever) or, with `lockTimeoutMs`, when waiting took too long
   * (`details.reason: 'lock-timeout'`); `EIO` when the lock cannot be taken.
   */
  lock(): void {
    if (this.lockFd !== undefined || this.lockFileHeld || this.heldEntered) throw new KnetError('EBUSY', 'host-local store lock is already held', { dir: this.dir });
    if (this.locking === 'held') this.heldEntered = true;
    else if (this.flock !== undefined) this.lockFlock(this.flock);
    else this.lockLockfile();
  }

  private timeout(): never {
    throw new KnetError('EBUSY', `timed out waiting for the lock on ${this.dir}`, { dir: this.dir, reason: 'lock-timeout' });
  }

  private lockFlock(flock: string): void {
    const path = join(this.dir, 'lock');
    const fd = openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o750);
    // flock(1) locks the open file description it inherits as fd 3, which this process keeps:
    // the lock outlives flock(1) and ends when the descriptor is closed (unlock, or death).
    const args = this.lockTimeoutMs === undefined ? ['-x', '3'] : ['-x', '-w', String(this.lockTimeoutMs / 1000), '-E', '75', '3'];
    const r = spawnSync(flock, args, { stdio: ['ignore', 'ignore', 'pipe', fd] });
    if (r.error !== undefined || r.status !== 0) {
      closeSync(fd);
      if (r.status === 75) this.timeout();
      const why = r.error?.message ?? (r.stderr.toString().trim() || `exit status ${String(r.status)}`);
      throw new KnetError('EIO', `failed to lock ${path}: ${why}`, { file: path });
    }
    this.lockFd = fd;
  }

  private lockLockfile(): void {
    const path = join(this.dir, IPAM_LOCKFILE_NAME);
    const deadline = this.lockTimeoutMs === undefined ? Infinity : Date.now() + this.lockTimeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.lockFileHeld = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new KnetError('EIO', `failed to lock ${path}: ${(e as Error).message}`, { file: path });
      }
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        continue; // released meanwhile
      }
      // The holder died without unlocking: take the lock over (rename is atomic; one wins).
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
        try {
          renameSync(path, `${path}.stale-${process.pid}`);
          rmSync(`${path}.stale-${process.pid}`, { force: true });
        } catch {
          // someone else took it over first
        }
        continue;
      }
      if (Date.now() >= deadline) this.timeout();
      sleepSync(wait);
    }
  }

  /** Releases the lock (closing the locked descriptor, or removing the lock file). */
  unlock(): void {
    this.heldEntered = false;
    if (this.lockFd !== undefined) {
      closeSync(this.lockFd);
      this.lockFd = undefined;
    }
    if (this.lockFileHeld) {
      rmSync(join(this.dir, IPAM_LOCKFILE_NAME), { force: true });
      this.lockFileHeld = false;
    }
  }

  reserve(id: string, ifname: string, ip: number, rangeSetIndex: number): boolean {
    const file = join(this.dir, formatIpv4(ip));
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new KnetError('EIO', `failed to reserve ${file}: ${(e as Error).message}`, { file });
    }
    try {
      writeSync(fd, formatIpamReservation(id, ifname));
      closeSync(fd);
    } catch (e) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      rmSync(file, { force: true });
      throw new KnetError('EIO', `failed to write ${file}: ${(e as Error).message}`, { file });
    }
    const last = join(this.dir, `${LAST_RESERVED_IP_PREFIX}${rangeSetIndex}`);
    const tmp = `${last}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, formatIpv4(ip), { mode: 0o600 });
      renameSync(tmp, last);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new KnetError('EIO', `failed to write ${last}: ${(e as Error).message}`, { file: last });
    }
    return true;
  }

  lastReservedIP(rangeSetIndex: number): number | undefined {
    try {
      // net.ParseIP(string(data)): no trimming, an unparsable file just loses round-robin.
      return tryParseIpv4(readFileSync(join(this.dir, `${LAST_RESERVED_IP_PREFIX}${rangeSetIndex}`), 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** Reservation files (IP-named), in lexical order as `filepath.Walk` visits them, with trimmed contents. */
  private reservations(): { ip: number; name: string; owner: string }[] {
    const out: { ip: number; name: string; owner: string }[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const ip = tryParseIpv4(name);
      if (ip === undefined) continue;
      let content: string;
      try {
        content = readFileSync(join(this.dir, name), 'utf8');
      } catch {
        continue;
      }
      out.push({ ip, name, owner: content.trim() });
    }
    return out;
  }

  releaseByID(id: string, ifname: string): void {
    const all = this.reservations();
    const release = (key: string): boolean => {
      let found = false;
      for (const r of all) {
        if (r.owner !== key) continue;
        rmSync(join(this.dir, r.name), { force: true });
        found = true;
      }
      return found;
    };
    if (!release(formatIpamReservation(id, ifname))) release(id.trim());
  }

  getByID(id: string, ifname: string): number[] {
    const key = formatIpamReservation(id, ifname);
    const legacy = id.trim();
    return this.reservations()
      .filter((r) => r.owner === key || r.owner === legacy)
      .map((r) => r.ip);
  }

  findByID(id: string, ifname: string): boolean {
    const all = this.reservations();
    const key = formatIpamReservation(id, ifname);
    return all.some((r) => r.owner === key) || all.some((r) => r.owner === id.trim());
  }

  list(): IpamReservation[] {
    return this.reservations().map(({ ip, owner }) => ({ ip, owner }));
  }

  release(ip: number): void {
    rmSync(join(this.dir, formatIpv4(ip)), { force: true });
  }

  /**
   * The directory as {@link MemoryIpamStore.files} describes one: reservation files by IP (raw
   * contents), then `last_reserved_ip.N`, each group in lexical order; `lock` is not listed.
   */
  files(): Record<string, string> {
    const out: Record<string, string> = {};
    const names = readdirSync(this.dir).sort();
    for (const name of names) if (tryParseIpv4(name) !== undefined) out[name] = readFileSync(join(this.dir, name), 'utf8');
    for (const name of names) {
      if (/^last_reserved_ip\.\d+$/.test(name)) out[name] = readFileSync(join(this.dir, name), 'utf8');
    }
    return out;
  }
}
