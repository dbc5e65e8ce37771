/**
 * The configuration of upstream's NewFakeProxier (pkg/proxy/iptables/proxier_test.go) in knet
 * terms, and a loader for the manifest fixtures.
 */
import { readFileSync } from 'node:fs';
import { buildClusterState, loadManifests } from '@knet/core';
import type { ClusterState } from '@knet/core';
import type { CreateIptablesProxierOptions, IpFamily } from '../src/index.js';

export const TEST_NODE_NAME = 'test-node';
export const TEST_NODE_IP = '192.168.0.2';
export const TEST_NODE_IP_ALT = '192.168.1.2';
export const TEST_EXTERNAL_IP = '192.168.99.11';
export const TEST_NODE_IPV6 = '2001:db8::1';
export const TEST_NODE_IPV6_ALT = '2001:db8:1::2';
export const TEST_EXTERNAL_CLIENT = '203.0.113.2';
export const TEST_EXTERNAL_CLIENT_BLOCKED = '203.0.113.130';

/** testNodeIPs: the addresses the tracer treats as LOCAL (with 127.0.0.1 and ::1). */
export const TEST_NODE_IPS = [TEST_NODE_IP, TEST_NODE_IP_ALT, TEST_EXTERNAL_IP, TEST_NODE_IPV6, TEST_NODE_IPV6_ALT] as const;

/**
 * NewFakeProxier: node test-node, eth0 holding testNodeIPs, pod CIDR 10.0.0.0/8 (fd00:10::/64)
 * as local detector, mark "0x4000", localhostNodePorts on, both nfacct counters present, no
 * --random-fully, nodePortAddresses unset.
 */
export function fakeProxierOptions(family: IpFamily = 'IPv4'): CreateIptablesProxierOptions {
  return {
    nodeName: TEST_NODE_NAME,
    ipFamily: family,
    nodeIPs: [...TEST_NODE_IPS],
    clusterCIDR: family === 'IPv4' ? '10.0.0.0/8' : 'fd00:10::/64',
    masqueradeMark: '0x4000',
    localhostNodePorts: true,
    nfacct: true,
    randomFully: false,
  };
}

/** Loads fixtures (knet-cluster.yaml first) through core's loadManifests + buildClusterState. */
export function loadFixtures(...names: string[]): ClusterState {
  const files = ['knet-cluster.yaml', ...names].map((n) => ({
    file: `fixtures/${n}`,
    text: readFileSync(new URL(`./fixtures/${n}`, import.meta.url), 'utf8'),
  }));
  return buildClusterState(loadManifests(files));
}
