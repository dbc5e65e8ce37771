import { isKnetError } from '@knet/core';
import type { CloudRouteTableSpec } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { makeCluster } from '../test/sim-cluster.js';
import { checkCloudRouteLimit } from './cloud-route-limit.js';

function outcome(nodes: number, cloud?: CloudRouteTableSpec): unknown {
  try {
    checkCloudRouteLimit(makeCluster({ nodes, ...(cloud !== undefined ? { cloud } : {}) }));
    return 'ok';
  } catch (e) {
    if (isKnetError(e)) return { code: e.code, details: e.details };
    throw e;
  }
}

describe('checkCloudRouteLimit', () => {
  it.each<[string, number, CloudRouteTableSpec | undefined, unknown]>([
    ['no cloud route table', 5000, undefined, 'ok'],
    ['AWS default, 50 nodes', 50, { provider: 'aws', routeLimit: 50 }, 'ok'],
    [
      'AWS default, 51 nodes',
      51,
      { provider: 'aws', routeLimit: 50 },
      { code: 'ELIMIT', details: { field: 'spec.fabric.cloud.routeLimit', provider: 'aws', limit: 50, routes: 51 } },
    ],
    ['AWS raised to 1000, 1000 nodes', 1000, { provider: 'aws', routeLimit: 1000 }, 'ok'],
    [
      'AWS raised to 1000, 1001 nodes',
      1001,
      { provider: 'aws', routeLimit: 1000 },
      { code: 'ELIMIT', details: { field: 'spec.fabric.cloud.routeLimit', provider: 'aws', limit: 1000, routes: 1001 } },
    ],
    ['Azure, 400 nodes', 400, { provider: 'azure', routeLimit: 400 }, 'ok'],
    [
      'Azure, 401 nodes',
      401,
      { provider: 'azure', routeLimit: 400 },
      { code: 'ELIMIT', details: { field: 'spec.fabric.cloud.routeLimit', provider: 'azure', limit: 400, routes: 401 } },
    ],
    [
      'AWS quota above its maximum',
      3,
      { provider: 'aws', routeLimit: 2000 },
      { code: 'EINVAL', details: { field: 'spec.fabric.cloud.routeLimit', provider: 'aws', limit: 2000, maxLimit: 1000 } },
    ],
    [
      'Azure quota above 400',
      3,
      { provider: 'azure', routeLimit: 500 },
      { code: 'EINVAL', details: { field: 'spec.fabric.cloud.routeLimit', provider: 'azure', limit: 500, maxLimit: 400 } },
    ],
  ])('%s', (_name, nodes, cloud, want) => {
    expect(outcome(nodes, cloud)).toEqual(want);
  });

  it('names the provider and the limit in the message', () => {
    let msg = '';
    try {
      checkCloudRouteLimit(makeCluster({ nodes: 51, cloud: { provider: 'aws', routeLimit: 50 } }));
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toBe(
      'kubenet needs one AWS route per node: 51 nodes need 51 routes, but the route table holds 50 (AWS VPC allows 50 non-propagated routes per route table by default, adjustable up to 1000)',
    );
  });
});
