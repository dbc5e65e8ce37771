import type { CloudRouteTableSpec, CniSpec, KnetClusterSpec, SourceRef } from '../cluster/cluster-state.js';
import { formatIpv4Cidr } from '../ip/ipv4.js';
import type { Ipv4Cidr } from '../ip/ipv4.js';
import { manifestError, manifestWarning } from './manifest-context.js';
import type { ManifestContext } from './manifest-context.js';
import {
  isManifestObject,
  joinField,
  optEnum,
  optInt,
  optObject,
  optString,
  readIpv4Cidr,
} from './manifest-fields.js';
import type { ManifestObject } from './manifest-fields.js';
import { validateMetadata } from './validate-metadata.js';

/** The `apiVersion` of knet's own `KnetCluster` kind. */
export const KNET_CLUSTER_API_VERSION = 'knet.dev/v1alpha1';

/**
 * `spec` of a `KnetCluster` as written in a manifest (every field optional), also the shape of
 * the overrides `buildClusterState` accepts (the CLI's `--cni`, `--proxy-mode`).
 */
export interface KnetClusterSpecInput {
  readonly clusterCIDR?: string;
  readonly serviceCIDR?: string;
  readonly nodeCIDRMaskSize?: number;
  readonly cni?: { readonly plugin?: string; readonly options?: Readonly<Record<string, unknown>> };
  readonly kubeProxy?: { readonly mode?: string };
  readonly fabric?: {
    readonly cidr?: string;
    readonly mtu?: number;
    readonly nodeInterface?: string;
    readonly cloud?: { readonly provider?: string; readonly routeLimit?: number };
  };
}

/**
 * The defaults of a `KnetCluster`: the Kubernetes defaults where Kubernetes has one.
 *
 * @remarks
 * - `clusterCIDR` 10.244.0.0/16: kubeadm/flannel's documented pod network (kube-controller-manager has no default).
 * - `serviceCIDR` 10.96.0.0/12: kubeadm's `--service-cidr` default.
 * - `nodeCIDRMaskSize` 24: kube-controller-manager's IPv4 `--node-cidr-mask-size` default.
 * - `fabric.mtu` 1500 (Ethernet), `fabric.nodeInterface` `eth0`.
 * - Cloud route tables: AWS 50 routes by default (adjustable to 1,000), Azure 400 (fixed).
 * @see /work/shared/facts/cni.md section 4 (cloud route limits) and section 9
 */
export const KNET_CLUSTER_DEFAULTS = {
  name: 'default',
  clusterCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
  nodeCIDRMaskSize: 24,
  cniPlugin: 'kubenet',
  kubeProxyMode: 'iptables',
  fabricMtu: 1500,
  fabricNodeInterface: 'eth0',
  cloudRouteLimit: { aws: { default: 50, max: 1000 }, azure: { default: 400, max: 400 } },
} as const;

/** A validated `KnetCluster` whose fabric CIDR may still have to be derived from the nodes. */
export interface ValidatedKnetCluster {
  /** Everything but `fabric.cidr`, with defaults applied. */
  readonly spec: Omit<KnetClusterSpec, 'fabric'> & { readonly fabric: Omit<KnetClusterSpec['fabric'], 'cidr'> };
  readonly clusterCidr: Ipv4Cidr;
  readonly serviceCidr: Ipv4Cidr;
  /** `spec.fabric.cidr` when given. */
  readonly fabricCidr?: Ipv4Cidr;
  /** The object's source; absent when the defaults were used. */
  readonly source?: SourceRef;
}

const KUBE_PROXY_MODES = ['iptables', 'ipvs', 'nftables', 'none'] as const;
const CLOUD_PROVIDERS = ['aws', 'azure'] as const;
const SPEC_KEYS = new Set(['clusterCIDR', 'serviceCIDR', 'nodeCIDRMaskSize', 'cni', 'kubeProxy', 'fabric']);
const CNI_KEYS = new Set(['plugin', 'options']);
const KUBE_PROXY_KEYS = new Set(['mode']);
const FABRIC_KEYS = new Set(['cidr', 'mtu', 'nodeInterface', 'cloud']);
const CLOUD_KEYS = new Set(['provider', 'routeLimit']);

/**
 * Validates a `KnetCluster` object (or none: all defaults) and applies the defaults in
 * {@link KNET_CLUSTER_DEFAULTS}.
 *
 * @remarks
 * - Unknown fields under `spec` are warnings (a typo such as `clusterCidr` must not pass unseen).
 * - `nodeCIDRMaskSize` must lie between the cluster CIDR's prefix length and 30: host-local needs
 *   a /30 at least (`Network ... too small to allocate from`).
 * - `fabric.nodeInterface` must be a valid Linux interface name (1-15 characters, no `/`, `:` or
 *   whitespace), as the kernel's `dev_valid_name()` requires.
 * - Linux equivalent: the flags of kube-controller-manager (`--cluster-cidr`,
 *   `--node-cidr-mask-size`), kube-apiserver (`--service-cluster-ip-range`) and kube-proxy (`--proxy-mode`).
 * @throws KnetError `EINVAL` naming the field (`spec.fabric.cloud.routeLimit`, ...).
 * @see kubernetes cmd/kube-controller-manager/app/options/nodeipamcontroller.go
 * @see linux net/core/dev.c dev_valid_name
 */
export function validateKnetCluster(
  ctx: ManifestContext | undefined,
  object: ManifestObject | undefined,
  override?: KnetClusterSpecInput,
  overrideCtx?: ManifestContext,
): ValidatedKnetCluster {
  const fileCtx: ManifestContext = ctx ?? { source: { file: '<defaults>', document: 0 }, warnings: [] };
  let name: string = KNET_CLUSTER_DEFAULTS.name;
  let spec: ManifestObject = {};
  if (object !== undefined) {
    name = validateMetadata(fileCtx, object, false).name;
    spec = optObject(fileCtx, object['spec'], 'spec') ?? {};
    warnUnknown(fileCtx, spec, 'spec', SPEC_KEYS);
    for (const [key, keys] of [
      ['cni', CNI_KEYS],
      ['kubeProxy', KUBE_PROXY_KEYS],
      ['fabric', FABRIC_KEYS],
    ] as const) {
      const sub = spec[key];
      if (isManifestObject(sub)) warnUnknown(fileCtx, sub, `spec.${key}`, keys);
    }
    const fabric = spec['fabric'];
    if (isManifestObject(fabric) && isManifestObject(fabric['cloud'])) {
      warnUnknown(fileCtx, fabric['cloud'], 'spec.fabric.cloud', CLOUD_KEYS);
    }
  }
  if (override !== undefined) {
    const oCtx = overrideCtx ?? { source: { file: '<options>', document: 0 }, warnings: fileCtx.warnings };
    // Check the override on its own first, so that its errors name the override, not the file.
    validateSpec(oCtx, override as ManifestObject, name, true);
    spec = mergeSpec(spec, override as ManifestObject);
  }
  const result = validateSpec(fileCtx, spec, name, false);
  return object === undefined || ctx === undefined ? result : { ...result, source: ctx.source };
}

function warnUnknown(ctx: ManifestContext, o: ManifestObject, field: string, known: ReadonlySet<string>): void {
  for (const key of Object.keys(o)) {
    if (!known.has(key)) manifestWarning(ctx, joinField(field, key), `unknown field "${key}" ignored`);
  }
}

function mergeSpec(base: ManifestObject, over: ManifestObject): ManifestObject {
  const out: ManifestObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    // `cni.options` is the plugin's own: an override replaces it whole.
    out[key] = isManifestObject(prev) && isManifestObject(value) && key !== 'options' ? mergeSpec(prev, value) : value;
  }
  return out;
}

/** With `partial`, only the fields present are checked (an override on its own). */
function validateSpec(ctx: ManifestContext, spec: ManifestObject, name: string, partial: boolean): ValidatedKnetCluster {
  const clusterText = optString(ctx, spec['clusterCIDR'], 'spec.clusterCIDR') ?? KNET_CLUSTER_DEFAULTS.clusterCIDR;
  const clusterCidr = readIpv4Cidr(ctx, clusterText, 'spec.clusterCIDR', true);
  const serviceText = optString(ctx, spec['serviceCIDR'], 'spec.serviceCIDR') ?? KNET_CLUSTER_DEFAULTS.serviceCIDR;
  const serviceCidr = readIpv4Cidr(ctx, serviceText, 'spec.serviceCIDR', true);
  const nodeCIDRMaskSize =
    optInt(ctx, spec['nodeCIDRMaskSize'], 'spec.nodeCIDRMaskSize', 1, 30) ?? KNET_CLUSTER_DEFAULTS.nodeCIDRMaskSize;
  if (!partial && nodeCIDRMaskSize < clusterCidr.prefix) {
    throw manifestError(
      ctx.source,
      'spec.nodeCIDRMaskSize',
      `node CIDR mask size /${nodeCIDRMaskSize} is shorter than the cluster CIDR ${clusterText}`,
    );
  }

  const cniIn = optObject(ctx, spec['cni'], 'spec.cni') ?? {};
  const cni: CniSpec = {
    plugin: optString(ctx, cniIn['plugin'], 'spec.cni.plugin') ?? KNET_CLUSTER_DEFAULTS.cniPlugin,
    options: optObject(ctx, cniIn['options'], 'spec.cni.options') ?? {},
  };

  const kubeProxyIn = optObject(ctx, spec['kubeProxy'], 'spec.kubeProxy') ?? {};
  const mode = optEnum(ctx, kubeProxyIn['mode'], 'spec.kubeProxy.mode', KUBE_PROXY_MODES) ?? KNET_CLUSTER_DEFAULTS.kubeProxyMode;

  const fabricIn = optObject(ctx, spec['fabric'], 'spec.fabric') ?? {};
  const fabricCidr =
    fabricIn['cidr'] === undefined || fabricIn['cidr'] === null
      ? undefined
      : readIpv4Cidr(ctx, fabricIn['cidr'], 'spec.fabric.cidr', true);
  const mtu = optInt(ctx, fabricIn['mtu'], 'spec.fabric.mtu', 68, 65535) ?? KNET_CLUSTER_DEFAULTS.fabricMtu;
  const nodeInterface =
    optString(ctx, fabricIn['nodeInterface'], 'spec.fabric.nodeInterface') ?? KNET_CLUSTER_DEFAULTS.fabricNodeInterface;
  if (!isValidIfname(nodeInterface)) {
    throw manifestError(ctx.source, 'spec.fabric.nodeInterface', `invalid interface name "${nodeInterface}"`);
  }
  const cloudIn = optObject(ctx, fabricIn['cloud'], 'spec.fabric.cloud');
  let cloud: CloudRouteTableSpec | undefined;
  if (cloudIn !== undefined) {
    const provider = optEnum(ctx, cloudIn['provider'], 'spec.fabric.cloud.provider', CLOUD_PROVIDERS);
    if (provider === undefined && !partial) {
      throw manifestError(ctx.source, 'spec.fabric.cloud.provider', 'required value is missing');
    }
    const limits = KNET_CLUSTER_DEFAULTS.cloudRouteLimit[provider ?? 'aws'];
    const routeLimit = optInt(ctx, cloudIn['routeLimit'], 'spec.fabric.cloud.routeLimit', 1, limits.max) ?? limits.default;
    cloud = { provider: provider ?? 'aws', routeLimit };
  }

  return {
    spec: {
      name,
      clusterCIDR: formatIpv4Cidr(clusterCidr),
      serviceCIDR: formatIpv4Cidr(serviceCidr),
      nodeCIDRMaskSize,
      cni,
      kubeProxy: { mode },
      fabric: { mtu, nodeInterface, ...(cloud === undefined ? {} : { cloud }) },
    },
    clusterCidr,
    serviceCidr,
    ...(fabricCidr === undefined ? {} : { fabricCidr }),
  };
}

/** Linux `dev_valid_name()`: 1-15 bytes (IFNAMSIZ 16), not `.`/`..`, no `/`, `:` or whitespace. */
function isValidIfname(name: string): boolean {
  return name.length >= 1 && name.length <= 15 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}
