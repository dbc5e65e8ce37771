import { KnetError } from '@knet/core';
import type { FlannelBackend } from './flannel-backend.js';
import { createHostGwBackend } from './host-gw-backend.js';
import { createUdpBackend } from './udp-backend.js';
import { createVxlanBackend } from './vxlan-backend.js';

/** The backends knet models. */
export const FLANNEL_BACKENDS = ['vxlan', 'host-gw', 'udp'] as const;

/** flannel's other backends: real, but not modelled by knet. */
const UNMODELLED = ['wireguard', 'ipsec', 'ipip', 'alloc', 'extension', 'tencent-vpc'];

/**
 * The backend for a `Backend.Type` (flannel's backend registry).
 * @throws KnetError `EOPNOTSUPP` for flannel backends knet does not model (wireguard, ipsec,
 * ipip, alloc, extension, tencent-vpc); `EINVAL` `unknown backend type: <type>` otherwise.
 * @see flannel-io/flannel pkg/backend/manager.go
 */
export function createBackend(type: string): FlannelBackend {
  switch (type) {
    case 'vxlan':
      return createVxlanBackend();
    case 'host-gw':
      return createHostGwBackend();
    case 'udp':
      return createUdpBackend();
  }
  if (UNMODELLED.includes(type)) {
    throw new KnetError('EOPNOTSUPP', `the flannel backend "${type}" is not modelled by knet (available: ${FLANNEL_BACKENDS.join(', ')})`, { field: 'Backend.Type', value: type });
  }
  throw new KnetError('EINVAL', `unknown backend type: ${type}`, { field: 'Backend.Type', value: type });
}
