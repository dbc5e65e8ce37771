import { Validator } from 'ip-num';
import type { ClusterEndpointSlice, SliceEndpoint } from '../cluster/cluster-state.js';
import { manifestError, manifestWarning } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import {
  optArray,
  optBool,
  optEnum,
  optInt,
  optObject,
  optString,
  readIpv4,
  readProtocol,
  reqString,
} from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';
import { validateMetadata } from './validate-metadata.js';

/** The label naming an EndpointSlice's Service. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** The label naming the controller that manages an EndpointSlice. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'] as const;

/** An EndpointSlice as validated, with its `managed-by` label kept for Endpoints mirroring. */
export interface ValidatedEndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** Absent when the slice names no Service and is left out. */
  readonly slice?: ClusterEndpointSlice;
  readonly managedBy?: string;
}

/**
 * Validates an EndpointSlice (`discovery.k8s.io/v1`).
 *
 * @remarks
 * - Conditions follow kube-proxy's reading of absent values: `ready` and `serving` default to
 *   true, `terminating` to false (`pkg/proxy/endpointslicecache.go`).
 * - A slice without the `kubernetes.io/service-name` label belongs to no Service: it is left out
 *   with a warning (kube-proxy ignores it).
 * - A port without `port` ("all ports") is left out with a warning, as kube-proxy skips it.
 * - IPv4 addresses are checked with the fast numeric parser; IPv6 with ip-num.
 * - Linux equivalent: none.
 * @throws KnetError `EINVAL` naming the field (`endpoints[2].addresses[0]`, ...).
 * @see kubernetes pkg/apis/discovery/validation/validation.go
 * @see /work/shared/facts/kube-proxy.md section 1.2
 */
export function validateEndpointSlice(ctx: ManifestContext, object: ManifestObject): ValidatedEndpointSlice {
  const meta = validateMetadata(ctx, object, true);
  const serviceName = meta.labels[LABEL_SERVICE_NAME];
  const addressType = optEnum(ctx, object['addressType'], 'addressType', ADDRESS_TYPES);
  if (addressType === undefined) throw manifestError(ctx.source, 'addressType', 'required value is missing');

  const portList = optArray(ctx, object['ports'], 'ports') ?? [];
  const ports: { name?: string; port: number; protocol: 'TCP' | 'UDP' | 'SCTP' }[] = [];
  for (let i = 0; i < portList.length; i++) {
    const f = `ports[${i}]`;
    const p = optObject(ctx, portList[i], f);
    if (p === undefined) throw manifestError(ctx.source, f, 'expected a port object');
    const name = optString(ctx, p['name'], `${f}.name`);
    const protocol = readProtocol(ctx, p['protocol'], `${f}.protocol`);
    const port = optInt(ctx, p['port'], `${f}.port`, 1, 65535);
    if (port === undefined) {
      manifestWarning(ctx, `${f}.port`, 'port without a number ("all ports") ignored, as kube-proxy does');
      continue;
    }
    ports.push({ ...(name === undefined ? {} : { name }), port, protocol });
  }

  const list = optArray(ctx, object['endpoints'], 'endpoints') ?? [];
  const endpoints: SliceEndpoint[] = [];
  for (let i = 0; i < list.length; i++) {
    const f = `endpoints[${i}]`;
    const e = optObject(ctx, list[i], f);
    if (e === undefined) throw manifestError(ctx.source, f, 'expected an endpoint object');
    const addrList = optArray(ctx, e['addresses'], `${f}.addresses`) ?? [];
    if (addrList.length === 0) throw manifestError(ctx.source, `${f}.addresses`, 'an endpoint needs at least one address');
    const addresses: string[] = [];
    for (let k = 0; k < addrList.length; k++) {
      const af = `${f}.addresses[${k}]`;
      if (addressType === 'IPv4') {
        addresses.push(readIpv4(ctx, addrList[k], af).text);
      } else {
        const text = reqString(ctx, addrList[k], af);
        if (addressType === 'IPv6' && !Validator.isValidIPv6String(text)[0]) {
          throw manifestError(ctx.source, af, `invalid IPv6 address "${text}"`);
        }
        addresses.push(text);
      }
    }
    const cond = optObject(ctx, e['conditions'], `${f}.conditions`) ?? {};
    const ready = optBool(ctx, cond['ready'], `${f}.conditions.ready`) ?? true;
    const serving = optBool(ctx, cond['serving'], `${f}.conditions.serving`) ?? true;
    const terminating = optBool(ctx, cond['terminating'], `${f}.conditions.terminating`) ?? false;
    const nodeName = optString(ctx, e['nodeName'], `${f}.nodeName`);
    const zone = optString(ctx, e['zone'], `${f}.zone`);
    const ref = optObject(ctx, e['targetRef'], `${f}.targetRef`);
    let targetRef: SliceEndpoint['targetRef'];
    if (ref !== undefined) {
      const kind = optString(ctx, ref['kind'], `${f}.targetRef.kind`) ?? '';
      const refName = optString(ctx, ref['name'], `${f}.targetRef.name`) ?? '';
      const refNs = optString(ctx, ref['namespace'], `${f}.targetRef.namespace`);
      targetRef = { kind, ...(refNs === undefined ? {} : { namespace: refNs }), name: refName };
    }
    endpoints.push({
      addresses,
      ready,
      serving,
      terminating,
      ...(nodeName === undefined ? {} : { nodeName }),
      ...(zone === undefined ? {} : { zone }),
      ...(targetRef === undefined ? {} : { targetRef }),
    });
  }

  if (serviceName === undefined || serviceName === '') {
    manifestWarning(ctx, `metadata.labels["${LABEL_SERVICE_NAME}"]`, 'EndpointSlice without a Service name label ignored');
    return { namespace: meta.namespace, name: meta.name };
  }
  const managedBy = meta.labels[LABEL_MANAGED_BY];
  const slice: ClusterEndpointSlice = {
    namespace: meta.namespace,
    name: meta.name,
    serviceName,
    addressType,
    ports,
    endpoints,
    fromEndpoints: false,
    source: ctx.source,
  };
  return { namespace: meta.namespace, name: meta.name, slice, ...(managedBy === undefined ? {} : { managedBy }) };
}
