/**
 * Takes the lock of a host-local store (`argv[2]` = data dir, `argv[3]` = network), prints
 * `locked`, and waits for stdin to close: a process that dies holding the lock, for tests.
 */
import { FileIpamStore } from '../../linux.js';

const store = new FileIpamStore(process.argv[3] ?? 'net', { dataDir: process.argv[2] ?? '/tmp', locking: 'flock' });
store.lock();
process.stdout.write('locked\n');
process.stdin.resume();
process.stdin.on('end', () => store.unlock());
