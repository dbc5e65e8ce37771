import { describe, expect, it } from 'vitest';
import { fixtureLines, fixtureText } from '../../../test/fixtures/conntrack/conntrack-fixtures.js';
import { other, sec, tcp, TCP_ACK, TCP_SYN, udp } from './__fixtures__/packets.js';
import { IPS } from './conntrack-entry.js';
import { ConntrackTable } from './conntrack-table.js';
import { formatConntrackEntry, formatConntrackList, formatConntrackSummary } from './format-conntrack-list.js';

describe('formatConntrackList', () => {
  it('prints protocols without ports as the kernel did (generic-protocols.txt)', () => {
    // one packet each of IP protocols 253, 4 and 47 from 192.0.2.1 to 192.0.2.2, listed right after
    const t = new ConntrackTable();
    for (const proto of [253, 4, 47]) t.confirm(t.conntrackIn(other('192.0.2.1', '192.0.2.2', proto), 0), 0);
    const lines = fixtureLines('generic-protocols.txt');
    const summary = lines.filter((l) => l.startsWith('conntrack v'));
    const listed = lines.filter((l) => !l.startsWith('conntrack v'));
    expect(formatConntrackList(t.list(sec(0.5)), sec(0.5)).trimEnd().split('\n').sort()).toEqual([...listed].sort());
    expect(formatConntrackSummary(listed.length)).toBe(`${summary[0]}\n`);
  });

  it.each([
    [{}, 'tcp      6 431999 ESTABLISHED src=10.244.0.4 dst=10.96.0.10 sport=34105 dport=53 src=10.244.1.3 dst=10.244.0.4 sport=53 dport=34105 [ASSURED] mark=16384 use=1'],
    [{ extended: true }, 'ipv4     2 tcp      6 431999 ESTABLISHED src=10.244.0.4 dst=10.96.0.10 sport=34105 dport=53 src=10.244.1.3 dst=10.244.0.4 sport=53 dport=34105 [ASSURED] mark=16384 use=1'],
  ] as const)('prints a DNATed TCP connection (options %o)', (options, line) => {
    const t = new ConntrackTable();
    const steps = [
      tcp('10.244.0.4', 34105, '10.96.0.10', 53, TCP_SYN, 1),
      tcp('10.244.1.3', 53, '10.244.0.4', 34105, TCP_SYN | TCP_ACK, 100, 2),
      tcp('10.244.0.4', 34105, '10.96.0.10', 53, TCP_ACK, 2, 101),
    ];
    for (const p of steps) {
      const ct = t.conntrackIn(p, 0);
      t.natHook(ct, p, 'PREROUTING', { runChain: () => t.setupNat(ct.entry!, 'DNAT', { minAddr: 0x0af40103, minPort: 53 }) });
      t.confirm(ct, 0);
    }
    const [e] = t.list(0);
    e!.mark = 0x4000;
    expect(formatConntrackList([e!], sec(1), options)).toBe(`${line}\n`);
    expect(formatConntrackEntry(e!, sec(1), { ...options, id: true })).toBe(`${line} id=${e!.id}`);
  });

  it('shows [UNREPLIED] after the original tuple, flags and zone as conntrack does', () => {
    const t = new ConntrackTable();
    const e = t.confirm(t.conntrackIn(udp('10.244.2.5', 45003, '203.0.113.50', 19), 0, { zone: 5 }), 0).entry!;
    expect(formatConntrackEntry(e, sec(3))).toBe(
      'udp      17 27 src=10.244.2.5 dst=203.0.113.50 sport=45003 dport=19 [UNREPLIED] src=203.0.113.50 dst=10.244.2.5 sport=19 dport=45003 mark=0 zone=5 use=1',
    );
    e.status |= IPS.OFFLOAD | IPS.ASSURED;
    expect(formatConntrackEntry(e, sec(3))).toContain(' [OFFLOAD] mark=0');
    expect(formatConntrackEntry(e, sec(31))).toMatch(/^udp {6}17 0 /);
  });

  it('prints the empty listing and its summary', () => {
    expect(formatConntrackList([], 0)).toBe('');
    expect(formatConntrackSummary(0)).toBe('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n');
    expect(fixtureText('snapshot-1.stderr.txt')).toContain('conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.');
  });
});
