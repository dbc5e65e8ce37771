import { describe, expect, it } from 'vitest';
import { FlannelUdpProxy } from './udp-backend.js';

describe('FlannelUdpProxy', () => {
  it('keeps proxy.c\'s route table: set replaces, delete moves the last entry into the gap', () => {
    const p = new FlannelUdpProxy(0x0af40100, 8285, 'flannel0');
    p.setRoute({ address: 0x0af40000, prefix: 24 }, 0xac120002, 8285);
    p.setRoute({ address: 0x0af40200, prefix: 24 }, 0xac120004, 8285);
    p.setRoute({ address: 0x0af40300, prefix: 24 }, 0xac120005, 8285);
    p.setRoute({ address: 0x0af40200, prefix: 24 }, 0xac120009, 8285);
    expect(p.table).toEqual([
      { dst: '10.244.0.0/24', nextHop: '172.18.0.2:8285' },
      { dst: '10.244.2.0/24', nextHop: '172.18.0.9:8285' },
      { dst: '10.244.3.0/24', nextHop: '172.18.0.5:8285' },
    ]);
    p.delRoute({ address: 0x0af40000, prefix: 24 });
    expect(p.table.map((r) => r.dst)).toEqual(['10.244.3.0/24', '10.244.2.0/24']);
  });
});
