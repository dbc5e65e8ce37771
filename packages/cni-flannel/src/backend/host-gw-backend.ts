import { KnetError, formatIpv4Cidr, isKnetError } from '@knet/core';
import type { LeaseEvent } from '../subnet/subnet-manager.js';
import type { BackendContext, FlannelBackend, FlannelNetwork } from './flannel-backend.js';

/**
 * flannel's host-gw backend: each remote subnet routed via the remote node's address on the
 * shared L2 segment.
 *
 * @remarks
 * Linux equivalent: flanneld with `"Backend": {"Type": "host-gw"}`. It refuses to start when the
 * public IP differs from the interface's (NAT); the lease carries `BackendType: "host-gw"` and no
 * backend data; each remote host-gw lease becomes `ip route add <subnet> via <PublicIP> dev
 * <iface>` (a route to the same subnet with another gateway is replaced), removed with the lease;
 * pods get the interface's MTU. Where flannel only logs a route it cannot add, knet throws: a
 * remote node whose address is not on this node's segment (`Network is unreachable`) means the
 * cluster does not meet host-gw's requirement of direct L2 adjacency.
 * @throws KnetError `EINVAL` for the NAT case; `ENETUNREACH` naming both nodes when a remote
 * node is not on this node's L2 segment.
 * @see flannel-io/flannel pkg/backend/hostgw/hostgw.go, pkg/backend/route_network.go
 */
export function createHostGwBackend(): FlannelBackend {
  return {
    type: 'host-gw',
    async register(ctx: BackendContext): Promise<FlannelNetwork> {
      const { host, netns, extIface } = ctx;
      if (extIface.publicIP !== extIface.address) {
        throw new KnetError('EINVAL', "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend", {
          node: ctx.node,
          publicIP: extIface.publicIP,
          address: extIface.address,
        });
      }
      const lease = await ctx.subnetManager.acquireLease({ publicIP: extIface.publicIP, backendType: 'host-gw' });
      return {
        backendType: 'host-gw',
        lease,
        mtu: extIface.mtu,
        async handleEvents(events: readonly LeaseEvent[]): Promise<void> {
          for (const e of events) {
            const l = e.lease;
            if (l.attrs.backendType !== 'host-gw') continue;
            const dst = formatIpv4Cidr(l.subnet);
            const route = { dst, via: l.attrs.publicIP, dev: extIface.name };
            if (e.type === 'removed') {
              try {
                await host.routeDel(netns, route);
              } catch (err) {
                if (!isKnetError(err)) throw err;
              }
              continue;
            }
            const same = (await host.routeList(netns)).filter((r) => r.table === 'main' && r.dst === dst);
            if (same.some((r) => r.gateway === l.attrs.publicIP && r.dev === extIface.name)) continue;
            for (const r of same) await host.routeDel(netns, { dst, ...(r.gateway !== undefined ? { via: r.gateway } : {}), ...(r.dev !== undefined ? { dev: r.dev } : {}) });
            try {
              await host.routeAdd(netns, route);
            } catch (err) {
              if (isKnetError(err, 'ENETUNREACH')) {
                throw new KnetError(
                  'ENETUNREACH',
                  `host-gw: node ${ctx.node} cannot route ${dst} via ${l.attrs.publicIP} dev ${extIface.name} (Network is unreachable): ` +
                    `host-gw needs every node on one L2 segment, and ${l.attrs.publicIP} is not on ${ctx.node}'s (${extIface.address} on ${extIface.name}); use the vxlan backend (with DirectRouting) instead`,
                  { node: ctx.node, subnet: dst, publicIP: l.attrs.publicIP, address: extIface.address },
                );
              }
              throw err;
            }
          }
        },
        close() {
          // host-gw has no process state.
        },
      };
    },
  };
}
