/**
 * LinuxHost on real namespaces with the resident runner (the CNI agent's): the same suite, the
 * same answers, from helpers kept per namespace instead of a process per command.
 */
import { createResidentRunner } from '../../src/host/linux/resident-runner.js';
import { linuxHostSuite } from './linux-host-suite.js';

linuxHostSuite('resident helpers', 'rr', () => {
  const runner = createResidentRunner();
  return { runner, close: () => runner.close() };
});
