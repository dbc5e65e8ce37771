/**
 * The CNI spec's JSON objects as TypeScript types: results of every result version (1.x, 0.3/0.4,
 * 0.1/0.2), network configurations and the GC attachment list. Field names and their order are
 * those of libcni's Go structs, which decide the JSON a Go plugin prints.
 *
 * @see https://github.com/containernetworking/cni/blob/main/SPEC.md
 * @see containernetworking/cni pkg/types/types.go, pkg/types/100/types.go, pkg/types/040/types.go, pkg/types/020/types.go
 */

/** An interface of a 1.x result (`types100.Interface`). */
export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  /** 1.1.0. */
  readonly mtu?: number;
  /** The netns path (`CNI_NETNS`) for an interface inside the container; absent on the host. */
  readonly sandbox?: string;
  /** 1.1.0: a socket path for userspace interfaces. */
  readonly socketPath?: string;
  /** 1.1.0: a PCI address. */
  readonly pciID?: string;
}

/** An address of a 1.x result (`types100.IPConfig`). */
export interface CniIpConfig {
  /** Index into `interfaces`; absent in an IPAM plugin's abbreviated result. */
  readonly interface?: number;
  /** CIDR, `10.244.1.2/24`. */
  readonly address: string;
  readonly gateway?: string;
}

/** A route (`types.Route`). */
export interface CniRoute {
  /** CIDR, `0.0.0.0/0`. */
  readonly dst: string;
  /** Absent: the plugin may use the gateway of the same family in `ips`. */
  readonly gw?: string;
  /** 1.1.0 fields. */
  readonly mtu?: number;
  readonly advmss?: number;
  readonly priority?: number;
  readonly table?: number;
  /** 0 global, 253 link, 254 host. */
  readonly scope?: number;
}

/** DNS settings (`types.DNS`). */
export interface CniDns {
  readonly nameservers?: readonly string[];
  readonly domain?: string;
  readonly search?: readonly string[];
  readonly options?: readonly string[];
}

/** An ADD result of spec 1.0.0 or 1.1.0 (`types100.Result`). */
export interface CniResult {
  readonly cniVersion: string;
  readonly interfaces?: readonly CniInterface[];
  readonly ips?: readonly CniIpConfig[];
  readonly routes?: readonly CniRoute[];
  /** Go marshals the struct even when empty: `"dns": {}`. */
  readonly dns?: CniDns;
}

/** An interface of a 0.3.x/0.4.0 result. */
export interface CniInterface040 {
  readonly name: string;
  readonly mac?: string;
  readonly sandbox?: string;
}

/** An address of a 0.3.x/0.4.0 result: carries its family as `version`. */
export interface CniIpConfig040 {
  readonly version: '4' | '6';
  readonly interface?: number;
  readonly address: string;
  readonly gateway?: string;
}

/** An ADD result of spec 0.3.0, 0.3.1 or 0.4.0 (`types040.Result`). */
export interface CniResult040 {
  readonly cniVersion: string;
  readonly interfaces?: readonly CniInterface040[];
  readonly ips?: readonly CniIpConfig040[];
  readonly routes?: readonly CniRoute[];
  readonly dns?: CniDns;
}

/** One family's configuration in a 0.1.0/0.2.0 result. */
export interface CniIpConfig020 {
  /** CIDR. */
  readonly ip: string;
  readonly gateway?: string;
  readonly routes?: readonly CniRoute[];
}

/** An ADD result of spec 0.1.0 or 0.2.0 (`types020.Result`). */
export interface CniResult020 {
  readonly cniVersion: string;
  readonly ip4?: CniIpConfig020;
  readonly ip6?: CniIpConfig020;
  readonly dns?: CniDns;
}

/** A result of any version. */
export type AnyCniResult = CniResult | CniResult040 | CniResult020;

/**
 * A plugin configuration object as the runtime hands it to the plugin on stdin (`types.PluginConf`
 * plus the plugin's own keys).
 */
export interface CniPluginConf {
  readonly cniVersion?: string;
  readonly name?: string;
  readonly type: string;
  readonly capabilities?: Readonly<Record<string, boolean>>;
  readonly ipam?: { readonly type?: string; readonly [key: string]: unknown };
  readonly dns?: CniDns;
  readonly runtimeConfig?: Readonly<Record<string, unknown>>;
  readonly args?: Readonly<Record<string, unknown>>;
  readonly prevResult?: unknown;
  readonly [key: string]: unknown;
}

/** A parsed network configuration list (`libcni.NetworkConfigList`). */
export interface CniNetConfList {
  readonly name: string;
  /** The version the runtime uses: `cniVersion`, or the highest supported of `cniVersions`. */
  readonly cniVersion: string;
  readonly disableCheck: boolean;
  readonly disableGC: boolean;
  readonly loadOnlyInlinedPlugins: boolean;
  /** The plugin objects as written (each with a `type`). */
  readonly plugins: readonly CniPluginConf[];
  /** The text the list was parsed from (cached as `config` in the result cache). */
  readonly bytes: string;
}

/** One attachment of the GC list (`types.GCAttachment`). */
export interface CniGcAttachment {
  readonly containerID: string;
  readonly ifname: string;
}
