import { KnetError, formatIpv4Cidr, parseIpv4Cidr } from '@knet/core';
import type { ClusterNode, IpamStore } from '@knet/core';

/**
 * kubelet's `--hairpin-mode`: how a pod reaches itself through a Service.
 *
 * - `promiscuous-bridge` (kubelet's default): `cbr0` in promiscuous mode, per-port hairpin off.
 * - `hairpin-veth`: the hairpin flag on every pod's bridge port (`hairpinMode: true` in the
 *   bridge config).
 * - `none`: neither.
 *
 * @see kubernetes pkg/kubelet/apis/config/v1beta1/defaults.go (HairpinMode = PromiscuousBridge)
 */
export type HairpinMode = 'promiscuous-bridge' | 'hairpin-veth' | 'none';

/** The values of {@link HairpinMode}, in kubelet's documentation order. */
export const HAIRPIN_MODES: readonly HairpinMode[] = ['promiscuous-bridge', 'hairpin-veth', 'none'];

/** Options of `createKubenetPlugin`: the kubelet flags kubenet reads, plus knet's own. */
export interface KubenetOptions {
  /**
   * `--network-plugin-mtu`: the MTU of `cbr0` and of every pod's veth pair. When absent, the
   * smallest MTU among the node's up, non-loopback, non-point-to-point interfaces, or 1460.
   */
  readonly mtu?: number;
  /** `--hairpin-mode`. Default `promiscuous-bridge`. */
  readonly hairpinMode?: HairpinMode;
  /**
   * `--non-masquerade-cidr`: traffic to it keeps the pod's source address. Default
   * `10.0.0.0/8`; `0.0.0.0/0` turns the masquerade rule off.
   */
  readonly nonMasqueradeCIDR?: string;
  /**
   * Seed of the per-node RNG that names host veths (`veth` + 8 hex). Each node's RNG is seeded
   * from `<seed>/<node name>`, or from the node name alone when absent: deterministic, and
   * different on every node.
   */
  readonly seed?: number | string;
  /**
   * Creates the host-local store of a node (network `kubenet`, i.e. `/var/lib/cni/networks/kubenet/`
   * on the node). Default: a fresh `MemoryIpamStore` per node.
   */
  readonly ipamStore?: (node: ClusterNode) => IpamStore;
}

/** {@link KubenetOptions} with kubelet's defaults applied. */
export interface ResolvedKubenetOptions {
  readonly mtu?: number;
  readonly hairpinMode: HairpinMode;
  /** Normalised as iptables-save prints it (`10.0.0.0/8`), or `0.0.0.0/0`. */
  readonly nonMasqueradeCIDR: string;
  readonly seed?: number | string;
}

/** kubelet's `--non-masquerade-cidr` default. @see kubernetes pkg/kubelet/dockershim/network/kubenet/kubenet_linux.go */
export const DEFAULT_NON_MASQUERADE_CIDR = '10.0.0.0/8';

/**
 * The smallest MTU kubenet accepts: anything below is refused (an IPv4 host must accept
 * 576-byte datagrams, RFC 791), as kubenet's `findMinMTU` refuses it.
 */
export const MIN_MTU = 576;

const KNOWN_OPTIONS: readonly string[] = ['mtu', 'hairpinMode', 'nonMasqueradeCIDR', 'seed', 'ipamStore'];

function bad(field: string, message: string, value: unknown): never {
  throw new KnetError('EINVAL', message, { field, value });
}

/**
 * Validates options and applies kubelet's defaults.
 *
 * @param field Where the options came from, for error details (default `spec.cni.options`).
 * @throws KnetError `EINVAL` naming the option: an unknown key, an MTU that is not an integer in
 * 576–65535, an unknown hairpin mode, a non-masquerade CIDR that is not an IPv4 prefix.
 */
export function resolveKubenetOptions(options: KubenetOptions = {}, field = 'spec.cni.options'): ResolvedKubenetOptions {
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(k)) {
      bad(`${field}.${k}`, `kubenet: unknown option "${k}" (known: mtu, hairpinMode, nonMasqueradeCIDR, seed)`, (options as Record<string, unknown>)[k]);
    }
  }
  const { mtu, hairpinMode = 'promiscuous-bridge', nonMasqueradeCIDR = DEFAULT_NON_MASQUERADE_CIDR, seed } = options;
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > 65535)) {
    bad(`${field}.mtu`, `kubenet: MTU ${String(mtu)} is invalid: it must be an integer from ${MIN_MTU} to 65535`, mtu);
  }
  if (!HAIRPIN_MODES.includes(hairpinMode)) {
    bad(`${field}.hairpinMode`, `kubenet: unknown hairpin mode "${String(hairpinMode)}" (want ${HAIRPIN_MODES.join(', ')})`, hairpinMode);
  }
  let cidr: string;
  if (nonMasqueradeCIDR === '0.0.0.0/0' || nonMasqueradeCIDR === '::/0') {
    cidr = '0.0.0.0/0';
  } else {
    try {
      // iptables masks host bits (`-d 10.1.2.3/8` is stored and saved as 10.0.0.0/8).
      cidr = formatIpv4Cidr(parseIpv4Cidr(nonMasqueradeCIDR, { strict: false }));
    } catch {
      bad(`${field}.nonMasqueradeCIDR`, `kubenet: invalid non-masquerade CIDR "${String(nonMasqueradeCIDR)}"`, nonMasqueradeCIDR);
    }
  }
  return { ...(mtu !== undefined ? { mtu } : {}), hairpinMode, nonMasqueradeCIDR: cidr, ...(seed !== undefined ? { seed } : {}) };
}

/**
 * Reads kubenet's options from a `KnetCluster`'s `spec.cni.options` (plain data from YAML).
 *
 * @remarks Accepted keys: `mtu`, `hairpinMode`, `nonMasqueradeCIDR`, `seed`. Unknown keys are refused
 * so that a typo does not silently fall back to a default.
 * @throws KnetError `EINVAL` with `details.field` (`spec.cni.options.<key>`).
 * @example
 * ```ts
 * import { parseKubenetOptions } from '@knet/kubenet';
 * parseKubenetOptions({ hairpinMode: 'hairpin-veth', mtu: 1450 });
 * ```
 */
export function parseKubenetOptions(raw: Readonly<Record<string, unknown>>, field = 'spec.cni.options'): KubenetOptions {
  const out: { mtu?: number; hairpinMode?: HairpinMode; nonMasqueradeCIDR?: string; seed?: number | string } = {};
  for (const [k, v] of Object.entries(raw)) {
    switch (k) {
      case 'mtu':
        if (typeof v !== 'number') bad(`${field}.mtu`, 'kubenet: mtu must be a number', v);
        out.mtu = v;
        break;
      case 'hairpinMode':
        if (typeof v !== 'string') bad(`${field}.hairpinMode`, 'kubenet: hairpinMode must be a string', v);
        out.hairpinMode = v as HairpinMode;
        break;
      case 'nonMasqueradeCIDR':
        if (typeof v !== 'string') bad(`${field}.nonMasqueradeCIDR`, 'kubenet: nonMasqueradeCIDR must be a string', v);
        out.nonMasqueradeCIDR = v;
        break;
      case 'seed':
        if (typeof v !== 'number' && typeof v !== 'string') bad(`${field}.seed`, 'kubenet: seed must be a number or a string', v);
        out.seed = v;
        break;
      default:
        // resolveKubenetOptions below names the unknown key.
        (out as Record<string, unknown>)[k] = v;
    }
  }
  resolveKubenetOptions(out, field);
  return out;
}
