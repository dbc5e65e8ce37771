import { KnetError } from '@knet/core';
import type { ClusterState, CloudRouteTableSpec } from '@knet/core';

/** What a cloud allows in one route table: the default quota and the most it can be raised to. */
export interface CloudRouteLimit {
  /** The provider's name as people write it. */
  readonly label: string;
  readonly defaultLimit: number;
  readonly maxLimit: number;
  /** The provider's own wording of the limit. */
  readonly source: string;
}

/**
 * Route-table limits of the clouds knet models.
 *
 * @remarks
 * - AWS VPC: "Routes per route table (non-propagated routes)": 50 by default, adjustable up to
 *   1,000 (IPv4 and IPv6 counted separately).
 * - Azure: "Azure supports a maximum of 400 routes in a UDR, so you can't have an AKS cluster
 *   larger than 400 nodes".
 * @see https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
 * @see https://learn.microsoft.com/azure/aks/configure-kubenet
 */
export const CLOUD_ROUTE_LIMITS: Readonly<Record<CloudRouteTableSpec['provider'], CloudRouteLimit>> = {
  aws: {
    label: 'AWS',
    defaultLimit: 50,
    maxLimit: 1000,
    source: 'AWS VPC allows 50 non-propagated routes per route table by default, adjustable up to 1000',
  },
  azure: {
    label: 'Azure',
    defaultLimit: 400,
    maxLimit: 400,
    source: "Azure supports a maximum of 400 routes in a UDR, so you can't have an AKS cluster larger than 400 nodes",
  },
};

/**
 * Checks that the cloud route table can hold kubenet's routes: one per node, for its pod CIDR.
 * Does nothing when the cluster has no cloud route table.
 *
 * @remarks Linux equivalent: none; this is the cloud route controller hitting its quota (on AWS,
 * `RouteLimitExceeded`), which leaves every node past the limit without pod connectivity.
 * @throws KnetError `ELIMIT` when nodes > `routeLimit`, with `details` `{ field:
 * 'spec.fabric.cloud.routeLimit', provider, limit, routes }`; `EINVAL` when `routeLimit` is above
 * what the provider allows (or not a positive integer).
 */
export function checkCloudRouteLimit(cluster: ClusterState): void {
  const cloud = cluster.cluster.fabric.cloud;
  if (cloud === undefined) return;
  const p = CLOUD_ROUTE_LIMITS[cloud.provider];
  const field = 'spec.fabric.cloud.routeLimit';
  if (p === undefined) {
    throw new KnetError('EINVAL', `unknown cloud provider "${String(cloud.provider)}" (want aws or azure)`, { field: 'spec.fabric.cloud.provider' });
  }
  const limit = cloud.routeLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > p.maxLimit) {
    throw new KnetError('EINVAL', `${p.label} route tables hold at most ${p.maxLimit} routes; routeLimit ${limit} is not possible (${p.source})`, {
      field,
      provider: cloud.provider,
      limit,
      maxLimit: p.maxLimit,
    });
  }
  const routes = cluster.nodes.length;
  if (routes > limit) {
    throw new KnetError(
      'ELIMIT',
      `kubenet needs one ${p.label} route per node: ${routes} nodes need ${routes} routes, but the route table holds ${limit} (${p.source})`,
      { field, provider: cloud.provider, limit, routes },
    );
  }
}
