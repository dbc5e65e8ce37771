import { describe, expect, it } from 'vitest';
import { commandError, errnoFromMessage } from './command-error.js';

// Every message below is what iproute2 6.1 / procps / iptables 1.8.9 / ipset 7.17 printed on
// kernel 6.18 for the command in the comment.
describe('errnoFromMessage', () => {
  it.each([
    ['RTNETLINK answers: File exists', 'EEXIST'], // ip link add br0 type bridge (twice)
    ['Error: ipv4: Address already assigned.', 'EEXIST'], // ip addr add (twice)
    ['Cannot find device "nosuch"', 'ENODEV'], // ip link set nosuch up
    ['RTNETLINK answers: No such device', 'ENODEV'], // ip route add 10.50.0.0/24 (no dev)
    ['Error: Nexthop has invalid gateway.', 'ENETUNREACH'], // ip route add ... via an unreachable address
    ['RTNETLINK answers: No such process', 'ENOENT'], // ip route del of a missing route
    ['Error: ipv4: Address not found.', 'ENOENT'], // ip addr del of a missing address
    ['RTNETLINK answers: No such file or directory', 'ENOENT'], // ip neigh del of a missing entry
    ['Cannot open network namespace "knet-nope": No such file or directory', 'ENOENT'], // ip -n knet-nope link
    ['Error: argument "knet-nope" is wrong: Invalid "netns" value', 'ENOENT'], // ip link set dev x netns knet-nope
    ['Cannot create namespace file "/run/netns/knet-a": File exists', 'EEXIST'], // ip netns add (twice)
    ['Error: Unknown device type.', 'EOPNOTSUPP'], // ip link add d0 type dummy (no dummy module)
    ['RTNETLINK answers: Operation not supported', 'EOPNOTSUPP'], // ip link del dev lo
    ['Error: Nexthop device required for onlink.', undefined], // EINVAL, recognised by commandError
    ['sysctl: cannot stat /proc/sys/net/ipv4/nosuch: No such file or directory', 'ENOENT'],
    ['sysctl: setting key "net.ipv4.ip_forward": Invalid argument', 'EINVAL'],
    ['sysctl: permission denied on key "net.core.rmem_max"', 'EPERM'],
    ['ipset v7.17: Error in line 1: Set cannot be created: set with the same name already exists', 'EEXIST'],
    ['RTNETLINK answers: Device or resource busy', 'EBUSY'],
  ] as const)('%s → %s', (message, code) => {
    expect(errnoFromMessage(message)).toBe(code);
  });
});

describe('commandError', () => {
  it('keeps the tool message as the text and the command in the details', () => {
    const e = commandError({ code: 2, stdout: '', stderr: 'RTNETLINK answers: File exists\n' }, { command: 'ip -n knet-a link add br0 type bridge', netns: 'knet-a' });
    expect(e.code).toBe('EEXIST');
    expect(e.message).toBe('RTNETLINK answers: File exists');
    expect(e.details).toEqual({ command: 'ip -n knet-a link add br0 type bridge', netns: 'knet-a', exitCode: 2 });
  });

  it.each([
    ['an unrecognised extended ack', 2, 'Error: Nexthop device required for onlink.\n', 'EINVAL'],
    ['an iproute2 argument error', 255, 'Error: argument "bogus" is wrong: nud state is bad\n', 'EINVAL'],
    ['iptables-restore, without its help hint', 2, "iptables-restore v1.8.9 (nf_tables): Chain 'BOGUS' does not exist\nError occurred at line: 5\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n", 'EINVAL'],
    ['a silent failure', 1, '', 'EIO'],
  ])('maps %s', (_, code, stderr, expected) => {
    const e = commandError({ code, stdout: '', stderr }, { command: 'x', ...(stderr.startsWith('iptables') ? { fallback: 'EINVAL' as const } : {}) });
    expect(e.code).toBe(expected);
    expect(e.message).not.toMatch(/Try `/);
    expect(e.message.length).toBeGreaterThan(0);
  });

  it('attributes a batch failure to its line', () => {
    const e = commandError(
      { code: 1, stdout: '', stderr: 'RTNETLINK answers: File exists\nCommand failed -:2\n' },
      { command: 'ip -n knet-a -batch -', netns: 'knet-a', line: 2, lineText: 'link add br0 type bridge' },
      ['RTNETLINK answers: File exists'],
    );
    expect(e.message).toBe('RTNETLINK answers: File exists');
    expect(e.details).toMatchObject({ line: 2, lineText: 'link add br0 type bridge' });
  });
});
