import { describe, expect, it } from 'vitest';
import { isKnetError, type KnetError } from '../../errors/knet-error.js';
import type { CommandOptions, CommandResult, CommandRunner } from './command-runner.js';
import { createLinuxHost } from './linux-host.js';

/** A runner that answers from a script instead of running anything, recording each call. */
function scriptedRunner(answer: (argv: string[], input: string | undefined) => Partial<CommandResult> = () => ({})) {
  const calls: { argv: string[]; input: string | undefined }[] = [];
  const runner: CommandRunner = async (file, args, options?: CommandOptions) => {
    const argv = [file, ...args];
    calls.push({ argv, input: options?.input });
    return { code: 0, stdout: '', stderr: '', ...answer(argv, options?.input) };
  };
  return { runner, calls };
}

async function failure(p: Promise<unknown>): Promise<KnetError> {
  try {
    await p;
  } catch (e) {
    if (isKnetError(e)) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('LinuxHost', () => {
  it('creates a namespace, then writes its sysctl defaults inside it in one call', async () => {
    const { runner, calls } = scriptedRunner();
    await createLinuxHost({ runner }).netnsAdd('knet-t-a', { role: 'node' });
    expect(calls[0]!.argv).toEqual(['ip', 'netns', 'add', 'knet-t-a']);
    expect(calls[1]!.argv.slice(0, 8)).toEqual(['ip', 'netns', 'exec', 'knet-t-a', 'sysctl', '-q', '-e', '-w']);
    expect(calls[1]!.argv).toContain('net/ipv6/conf/all/disable_ipv6=1');
    expect(calls[1]!.argv).toContain('net/ipv4/conf/all/rp_filter=0');
    expect(calls).toHaveLength(2);
  });

  it('deletes the namespace again when its defaults cannot be written', async () => {
    const { runner, calls } = scriptedRunner((argv) => (argv[4] === 'sysctl' ? { code: 255, stderr: 'sysctl: cannot stat /proc/sys/net/ipv6/conf/all/disable_ipv6: No such file or directory\n' } : {}));
    const e = await failure(createLinuxHost({ runner }).netnsAdd('knet-t-a', { role: 'node' }));
    expect(e.code).toBe('ENOENT');
    expect(calls.map((c) => c.argv.slice(0, 3).join(' '))).toEqual(['ip netns add', 'ip netns exec', 'ip netns del']);
  });

  it('sends several changes to one device as one batch on standard input', async () => {
    const { runner, calls } = scriptedRunner();
    await createLinuxHost({ runner }).linkSet('knet-t-a', 'eth0', { mtu: 1450, promisc: true, up: true });
    expect(calls).toEqual([
      { argv: ['ip', '-n', 'knet-t-a', '-batch', '-'], input: 'link set dev eth0 mtu 1450\nlink set dev eth0 promisc on\nlink set dev eth0 up\n' },
    ]);
  });

  it('moves a device first, then changes it in its new namespace; a master change runs on its own', async () => {
    const { runner, calls } = scriptedRunner();
    await createLinuxHost({ runner, namespacePrefix: 'knet-t-' }).linkSet('knet-t-a', 'veth1', { netns: 'knet-t-b', name: 'eth0', master: 'cbr0', up: true });
    expect(calls.map((c) => [c.argv.join(' '), c.input])).toEqual([
      ['ip -n knet-t-a link set dev veth1 netns knet-t-b', undefined],
      ['ip -n knet-t-b link set dev veth1 name eth0', undefined],
      ['ip -n knet-t-b link set dev eth0 master cbr0', undefined],
      ['ip -n knet-t-b link set dev eth0 up', undefined],
    ]);
  });

  it('attributes a batch failure to its line, with the kernel message and errno', async () => {
    const { runner } = scriptedRunner(() => ({ code: 1, stderr: 'RTNETLINK answers: Operation not supported\nCommand failed -:2\n' }));
    const e = await failure(createLinuxHost({ runner }).linkSet('knet-t-a', 'cbr0', { mtu: 1400, hairpin: true }));
    expect(e.code).toBe('EOPNOTSUPP');
    expect(e.message).toBe('RTNETLINK answers: Operation not supported');
    expect(e.details).toMatchObject({ netns: 'knet-t-a', line: 2, lineText: 'link set dev cbr0 type bridge_slave hairpin on' });
  });

  it('turns TX checksum offload off on both ends of a new veth, in their namespaces', async () => {
    const { runner, calls } = scriptedRunner();
    await createLinuxHost({ runner }).linkAdd('knet-t-pod', { kind: 'veth', name: 'eth0', peer: { name: 'veth1', netns: 'knet-t-node' } });
    expect(calls.map((c) => c.argv.join(' '))).toEqual([
      'ip -n knet-t-pod link add name eth0 type veth peer name veth1 netns knet-t-node',
      'ip netns exec knet-t-pod ethtool -K eth0 tx off',
      'ip netns exec knet-t-node ethtool -K veth1 tx off',
    ]);
  });

  it('deletes the new device again and names the fix when ethtool is missing', async () => {
    const { runner, calls } = scriptedRunner((argv) => (argv[4] === 'ethtool' ? { code: 1, stderr: 'exec of "ethtool" failed: No such file or directory\n' } : {}));
    const e = await failure(createLinuxHost({ runner }).linkAdd('knet-t-a', { kind: 'bridge', name: 'cbr0' }));
    expect(e.code).toBe('EOPNOTSUPP');
    expect(e.message).toMatch(/^ethtool: command not found .*txChecksumOffload: true$/);
    expect(calls.at(-1)!.argv.join(' ')).toBe('ip -n knet-t-a link del dev cbr0');
  });

  it('keeps TX checksum offload when asked to', async () => {
    const { runner, calls } = scriptedRunner();
    await createLinuxHost({ runner, txChecksumOffload: true }).linkAdd('knet-t-a', { kind: 'bridge', name: 'cbr0' });
    expect(calls).toHaveLength(1);
  });

  it.each<[string, (h: ReturnType<typeof createLinuxHost>) => Promise<unknown>, string]>([
    ['a namespace outside knet-', (h) => h.linkList('cni-1234'), 'EPERM'],
    ['a veth peer outside the prefix', (h) => h.linkAdd('knet-t-a', { kind: 'veth', name: 'eth0', peer: { name: 'x', netns: 'default' } }), 'EPERM'],
    ['a move outside the prefix', (h) => h.linkSet('knet-t-a', 'eth0', { netns: 'knet-other' }), 'EPERM'],
    ['a sysctl outside net.', (h) => h.sysctlSet('knet-t-a', 'kernel.hostname', 'x'), 'EPERM'],
    ['a device name iproute2 would split', (h) => h.linkDel('knet-t-a', 'eth0 up'), 'EINVAL'],
    ['an empty command', (h) => h.exec('knet-t-a', []), 'EINVAL'],
  ])('refuses %s without running anything', async (_, call, code) => {
    const { runner, calls } = scriptedRunner();
    const e = await failure(call(createLinuxHost({ runner, namespacePrefix: 'knet-t-' })));
    expect(e.code).toBe(code);
    expect(calls).toEqual([]);
  });

  it('refuses a namespace prefix that does not start with knet-', () => {
    expect(() => createLinuxHost({ namespacePrefix: 'cni-' })).toThrow(expect.objectContaining({ code: 'EPERM' }));
  });
});
