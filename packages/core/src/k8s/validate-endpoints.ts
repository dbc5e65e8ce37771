import { Validator } from 'ip-num';
import type { Labels, SourceRef } from '../cluster/cluster-state.js';
import { manifestError } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import {
  looksLikeIpv6,
  optArray,
  optInt,
  optObject,
  optString,
  readIpv4,
  readProtocol,
  reqString,
} from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';
import { validateMetadata } from './validate-metadata.js';

/** An address of a core/v1 Endpoints subset. */
export interface EndpointsAddress {
  readonly ip: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly nodeName?: string;
  readonly hostname?: string;
  readonly targetRef?: { readonly kind: string; readonly namespace?: string; readonly name: string; readonly uid?: string };
}

/** A port of a core/v1 Endpoints subset (`name` is `''` when unnamed). */
export interface EndpointsPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly appProtocol?: string;
}

/** One `subsets[]` entry. */
export interface EndpointsSubset {
  readonly addresses: readonly EndpointsAddress[];
  readonly notReadyAddresses: readonly EndpointsAddress[];
  readonly ports: readonly EndpointsPort[];
}

/** A validated core/v1 Endpoints object. */
export interface ValidatedEndpoints {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly subsets: readonly EndpointsSubset[];
  readonly source: SourceRef;
}

/**
 * Validates an Endpoints object (`v1`): every address must be an IP, every port 1-65535 with a
 * protocol (default TCP, as the API server's defaulting does).
 *
 * @remarks Linux equivalent: none. See `mirrorEndpoints` for its conversion to EndpointSlices.
 * @throws KnetError `EINVAL` naming the field (`subsets[0].addresses[1].ip`, ...).
 * @see kubernetes pkg/apis/core/validation/validation.go ValidateEndpoints
 */
export function validateEndpoints(ctx: ManifestContext, object: ManifestObject): ValidatedEndpoints {
  const meta = validateMetadata(ctx, object, true);
  const list = optArray(ctx, object['subsets'], 'subsets') ?? [];
  const subsets: EndpointsSubset[] = [];
  for (let i = 0; i < list.length; i++) {
    const f = `subsets[${i}]`;
    const s = optObject(ctx, list[i], f);
    if (s === undefined) throw manifestError(ctx.source, f, 'expected a subset object');
    const portList = optArray(ctx, s['ports'], `${f}.ports`) ?? [];
    const ports: EndpointsPort[] = [];
    for (let k = 0; k < portList.length; k++) {
      const pf = `${f}.ports[${k}]`;
      const p = optObject(ctx, portList[k], pf);
      if (p === undefined) throw manifestError(ctx.source, pf, 'expected a port object');
      const port = optInt(ctx, p['port'], `${pf}.port`, 1, 65535);
      if (port === undefined) throw manifestError(ctx.source, `${pf}.port`, 'required value is missing');
      const appProtocol = optString(ctx, p['appProtocol'], `${pf}.appProtocol`);
      ports.push({
        name: optString(ctx, p['name'], `${pf}.name`) ?? '',
        port,
        protocol: readProtocol(ctx, p['protocol'], `${pf}.protocol`),
        ...(appProtocol === undefined ? {} : { appProtocol }),
      });
    }
    subsets.push({
      addresses: readAddresses(ctx, s['addresses'], `${f}.addresses`),
      notReadyAddresses: readAddresses(ctx, s['notReadyAddresses'], `${f}.notReadyAddresses`),
      ports,
    });
  }
  return {
    namespace: meta.namespace,
    name: meta.name,
    labels: meta.labels,
    annotations: meta.annotations,
    subsets,
    source: ctx.source,
  };
}

function readAddresses(ctx: ManifestContext, v: unknown, field: string): EndpointsAddress[] {
  const list = optArray(ctx, v, field) ?? [];
  const out: EndpointsAddress[] = [];
  for (let i = 0; i < list.length; i++) {
    const f = `${field}[${i}]`;
    const a = optObject(ctx, list[i], f);
    if (a === undefined) throw manifestError(ctx.source, f, 'expected an address object');
    const ipText = reqString(ctx, a['ip'], `${f}.ip`);
    let family: 'IPv4' | 'IPv6' = 'IPv4';
    if (looksLikeIpv6(ipText)) {
      if (!Validator.isValidIPv6String(ipText)[0]) throw manifestError(ctx.source, `${f}.ip`, `invalid IP address "${ipText}"`);
      family = 'IPv6';
    } else {
      readIpv4(ctx, ipText, `${f}.ip`);
    }
    const nodeName = optString(ctx, a['nodeName'], `${f}.nodeName`);
    const hostname = optString(ctx, a['hostname'], `${f}.hostname`);
    const ref = optObject(ctx, a['targetRef'], `${f}.targetRef`);
    let targetRef: EndpointsAddress['targetRef'];
    if (ref !== undefined) {
      const ns = optString(ctx, ref['namespace'], `${f}.targetRef.namespace`);
      const uid = optString(ctx, ref['uid'], `${f}.targetRef.uid`);
      targetRef = {
        kind: optString(ctx, ref['kind'], `${f}.targetRef.kind`) ?? '',
        ...(ns === undefined ? {} : { namespace: ns }),
        name: optString(ctx, ref['name'], `${f}.targetRef.name`) ?? '',
        ...(uid === undefined ? {} : { uid }),
      };
    }
    out.push({
      ip: ipText,
      family,
      ...(nodeName === undefined ? {} : { nodeName }),
      ...(hostname === undefined ? {} : { hostname }),
      ...(targetRef === undefined ? {} : { targetRef }),
    });
  }
  return out;
}
