import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CNI_AGENT_REPLY_SLOTS } from './cni-agent-slots.js';
import { cniLauncherScript } from './cni-launcher.js';

describe('cniLauncherScript', () => {
  it('is a POSIX shell script that dash accepts, naming the agent and the fallback', () => {
    const text = cniLauncherScript({ name: 'knet-kubenet', entry: "/opt/knet/it's/knet-kubenet-cni.js", node: '/usr/bin/node' });
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(spawnSync('sh', ['-n'], { input: text }).status).toBe(0);
    expect(text).toContain('for d in "$agents"/knet-kubenet.*; do');
    expect(text).toContain(`for i in ${Array.from({ length: CNI_AGENT_REPLY_SLOTS }, (_, i) => i).join(' ')}; do`);
    // Quoted for the shell, quotes included.
    expect(text.trimEnd().split('\n').at(-1)).toBe(`exec '/usr/bin/node' '/opt/knet/it'\\''s/knet-kubenet-cni.js'`);
  });

  it('finds a relative entry beside its real path, and node on PATH unless told', () => {
    const text = cniLauncherScript({ name: 'knet-kubenet', entry: 'knet-kubenet-cni.js', relative: true });
    expect(text.trimEnd().split('\n').at(-1)).toBe(`exec "\${KNET_NODE:-node}" "$(dirname "$(readlink -f "$0")")"/'knet-kubenet-cni.js'`);
  });

  it.each(['', '../x', 'a b', 'x/y'])('refuses the name %j', (name) => {
    expect(() => cniLauncherScript({ name, entry: '/x.js' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
