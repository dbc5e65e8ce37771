import { describe, expect, it } from 'vitest';
import { SimLink } from './link/sim-link.js';
import { SimNetns } from './sim-netns.js';

function occupy(ns: SimNetns, ifindex: number): void {
  ns.byIndex.set(ifindex, new SimLink({ ifindex, name: `d${ifindex}`, kind: 'dummy', mac: '02:00:00:00:00:01', mtu: 1500, netns: ns }));
}

describe('SimNetns', () => {
  // dev_index_reserve → xa_alloc_cyclic: the search starts after the last index handed out,
  // skips occupied ones, and a device moved in with its own index does not move it
  // (Linux 6.18: test/fixtures/kernel/netns-move.txt and ifindex.txt).
  it.each([
    ['counts up from 1', [], [], [1, 2, 3]],
    ['skips an index a moved-in device holds', [], [2], [1, 3, 4]],
    ['does not reuse freed indexes', [1, 2], [], [3, 4, 5]],
    ['is not advanced by a device moved in far ahead', [], [7], [1, 2, 3]],
  ] as const)('allocIfindex %s', (_name, allocatedBefore, movedIn, want) => {
    const ns = new SimNetns('knet-t', { role: 'node' });
    for (const _ of allocatedBefore) ns.allocIfindex();
    for (const i of movedIn) occupy(ns, i);
    expect([ns.allocIfindex(), ns.allocIfindex(), ns.allocIfindex()]).toEqual(want);
  });
});
