/** LinuxHost on real namespaces with the default runner: one process per command. */
import { spawnCommand } from '../../src/host/linux/command-runner.js';
import { linuxHostSuite } from './linux-host-suite.js';

linuxHostSuite('a process per command', 'sp', () => ({ runner: spawnCommand }));
