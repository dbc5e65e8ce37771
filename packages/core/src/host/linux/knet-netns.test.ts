import { describe, expect, it } from 'vitest';
import { assertKnetNetns } from './knet-netns.js';

describe('assertKnetNetns', () => {
  it.each(['knet-example-node-node-1', 'knet-example-pod-shop-cart-5d8b9c7f6-hv4nx', 'knet-lh.1'])('accepts %s', (name) => {
    expect(() => assertKnetNetns(name)).not.toThrow();
  });

  it.each([
    ['the root namespace by any name', '', 'knet-', 'EPERM'],
    ['another program\'s namespace', 'cni-1234', 'knet-', 'EPERM'],
    ['the bare prefix', 'knet-', 'knet-', 'EPERM'],
    ['a name outside a narrower prefix', 'knet-other-a', 'knet-mine-', 'EPERM'],
    ['a prefix that is not knet-', 'x-a', 'x-', 'EPERM'],
    ['a path', 'knet-a/../b', 'knet-', 'EINVAL'],
    ['a name with a space', 'knet-a b', 'knet-', 'EINVAL'],
  ])('refuses %s', (_, name, prefix, code) => {
    expect(() => assertKnetNetns(name, prefix)).toThrow(expect.objectContaining({ code }));
  });
});
