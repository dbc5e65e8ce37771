import {
  KnetError,
  MemoryIpamStore,
  SeededRng,
  bestEffort,
  cidrContains,
  createBridgeCniPlugin,
  createEtcdDatastore,
  createManualClock,
  createMemoryDatastore,
  formatIpv4Cidr,
  isKnetError,
  parseIpv4Cidr,
  runCniPlugin,
} from '@knet/core';
import type {
  ClusterNode,
  ClusterPod,
  ClusterState,
  Datastore,
  DatastoreClock,
  FabricContext,
  IpamStore,
  NetworkPlugin,
  NodeContext,
  PodAttachment,
  PodNetworkResult,
} from '@knet/core';
import { createBackend } from './backend/create-backend.js';
import { createFlannelConfList, FLANNEL_CONFLIST_PATH } from './cni/flannel-cni-conf.js';
import { createFlannelCniPlugin, inProcessDelegate } from './cni/flannel-cni-plugin.js';
import { createFlanneld, type Flanneld } from './flanneld.js';
import type { FlannelOptions } from './flannel-options.js';
import { createKubeNodeStore, createKubeSubnetManager, type KubeNodeStore } from './subnet/kube-subnet-manager.js';
import { formatLeaseAttrs } from './subnet/lease-attrs.js';
import { createLocalSubnetManager } from './subnet/local-subnet-manager.js';
import { checkNetConf, DEFAULT_ETCD_PREFIX, NET_CONF_PATH, parseNetConf, type FlannelNetConf } from './subnet/net-conf.js';
import { parseSubnetEnv, SUBNET_ENV_PATH } from './subnet/subnet-env.js';
import { formatSubnetKey } from './subnet/subnet-key.js';
import type { LeaseEvent, SubnetManager } from './subnet/subnet-manager.js';

/** A {@link NetworkPlugin} with flannel's read-outs. */
export interface FlannelPlugin extends NetworkPlugin {
  readonly name: 'flannel';
  readonly options: FlannelOptions;
  /** The clock leases run on (advance it to expire or renew leases). */
  readonly clock: DatastoreClock;
  /** The net-conf.json text in force (after {@link NetworkPlugin.validate}). */
  netConfText(): string;
  /** The parsed net-conf (etcd mode: checked, SubnetLen/Min/Max filled). */
  netConf(): FlannelNetConf;
  /** etcd mode's store (after `setupFabric`). */
  readonly datastore: Datastore | undefined;
  /** kube mode's Node API (after `validate`). */
  readonly kubeNodes: KubeNodeStore | undefined;
  /** The node's flanneld, once set up. */
  agent(node: string): Flanneld | undefined;
  /** The node's files (`/run/flannel/subnet.env`, `/etc/cni/net.d/10-flannel.conflist`, `/var/lib/cni/flannel/<cid>`). */
  files(node: string): ReadonlyMap<string, string>;
  /** The node's host-local store (network `cbr0`). */
  ipamStore(node: string): IpamStore | undefined;
  /** flanneld restarts on a node: the old process exits, a new one starts (and reads the others' leases). */
  restartAgent(ctx: NodeContext): Promise<Flanneld>;
  /** flanneld stops on a node for good (the node is removed): its lease is no longer renewed. */
  stopAgent(node: string): void;
  /** Renews due leases, then every running flanneld re-reads the leases (the watch after a gap). */
  sync(): Promise<ReadonlyMap<string, readonly LeaseEvent[]>>;
  /** Releases the datastore connection. */
  close(): Promise<void>;
}

interface NodeState {
  readonly files: Map<string, string>;
  readonly store: IpamStore;
  readonly rng: SeededRng;
  agent: Flanneld;
  ctx: NodeContext;
}

const KUBE_FLANNEL_NET_CONF = (network: string, backend: Readonly<Record<string, unknown>>): Record<string, unknown> => ({
  Network: network,
  EnableNFTables: false,
  Backend: backend,
});

/** kubelet's CNI_ARGS for a pod (`IgnoreUnknown=1;K8S_POD_NAMESPACE=...`), and `IP=` for a pod whose manifest fixes its address. */
function podCniArgs(pod: ClusterPod, containerId: string): string {
  const parts = ['IgnoreUnknown=1', `K8S_POD_NAMESPACE=${pod.namespace}`, `K8S_POD_NAME=${pod.name}`, `K8S_POD_INFRA_CONTAINER_ID=${containerId}`];
  if (pod.uid !== undefined) parts.push(`K8S_POD_UID=${pod.uid}`);
  if (pod.podIP !== undefined) parts.push(`IP=${pod.podIP}`);
  return parts.join(';');
}

/**
 * Creates flannel as a knet {@link NetworkPlugin}: flanneld on every node (lease, backend device,
 * `subnet.env`, iptables rules, the other nodes' subnets), and the `flannel` CNI plugin
 * delegating to bridge for every pod — all through the {@link Host} API.
 *
 * @remarks
 * Linux equivalent: kube-flannel.yml's DaemonSet (flanneld with `--ip-masq --kube-subnet-mgr`,
 * net-conf.json `{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}`) and
 * `/etc/cni/net.d/10-flannel.conflist`; or flanneld in etcd mode.
 * - `validate`: the net-conf parses (and, in etcd mode, passes `CheckNetworkConfig`); the backend
 *   is one knet models; kube mode: every node's pod CIDR lies in the Network; etcd mode: every
 *   reservation fits `SubnetMin`..`SubnetMax` and `SubnetLen`.
 * - `setupFabric` (etcd mode): what the operator does before flanneld starts — `etcdctl put
 *   /coreos.com/network/config <net-conf>` and, with `reservePodCIDRs`, one reservation
 *   `subnets/<podCIDR>` = `{"PublicIP":"<InternalIP>"}` per node whose manifest sets a pod CIDR.
 * - `setupNode`: the node's Kubernetes prerequisites (`net.ipv4.ip_forward=1`,
 *   `net.bridge.bridge-nf-call-iptables=1`, as kubeadm's install guide sets them), the CNI
 *   conflist, then flanneld; the lease watch is modelled by handing the new lease to every running
 *   flanneld and a snapshot of all leases to the new one.
 * - `addPod`: the runtime's loopback (`lo` up), then the `flannel` CNI plugin (network `cbr0`,
 *   `delegate: {hairpinMode: true, isDefaultGateway: true}`) delegating to the bridge plugin
 *   (`cni0`, `isGateway`, `ipMasq: !FLANNEL_IPMASQ`, MTU `FLANNEL_MTU`, host-local over
 *   `FLANNEL_SUBNET`), with kubelet's CNI_ARGS; a pod whose manifest gives `status.podIP` asks
 *   host-local for it (`IP=`), so the simulation reproduces the cluster's addresses.
 * - `delPod`: the plugin's DEL.
 * Not modelled: portmap (the conflist's second plugin), flanneld's 5 s iptables resync, node
 * conditions, IPv6 and the wireguard/ipsec/ipip backends.
 * @see flannel-io/flannel main.go, Documentation/kube-flannel.yml; flannel-io/cni-plugin
 * @example
 * ```ts
 * import { createFlannelPlugin } from '@knet/cni-flannel';
 * const flannel = createFlannelPlugin({ backend: 'vxlan' });
 * flannel.name; // 'flannel'
 * ```
 */
export function createFlannelPlugin(options: FlannelOptions = {}): FlannelPlugin {
  const mode = options.subnetManager ?? 'kube';
  const clock = options.clock ?? createManualClock();
  const nodes = new Map<string, NodeState>();
  let netConfText: string | undefined;
  let netConf: FlannelNetConf | undefined;
  let datastore: Datastore | undefined;
  let kubeNodes: KubeNodeStore | undefined;
  const seedOf = (node: string, what: string): string => `${options.seed === undefined ? '' : String(options.seed)}/${node}/${what}`;

  function resolveNetConf(cluster: ClusterState): void {
    if (options.netConf !== undefined) {
      netConfText = typeof options.netConf === 'string' ? options.netConf : JSON.stringify(options.netConf, null, 2);
    } else {
      const backend = { Type: options.backend ?? 'vxlan', ...(options.directRouting === true ? { DirectRouting: true } : {}) };
      netConfText = JSON.stringify(KUBE_FLANNEL_NET_CONF(cluster.cluster.clusterCIDR, backend), null, 2);
    }
    const parsed = parseNetConf(netConfText);
    netConf = mode === 'etcd' ? checkNetConf(parsed) : parsed;
  }

  function subnetManagerFor(node: ClusterNode, files: ReadonlyMap<string, string>): SubnetManager {
    if (mode === 'kube') return createKubeSubnetManager({ nodes: kubeNodes!, nodeName: node.name, netConf: netConf!, clock });
    // flanneld reads the previous subnet from the subnet.env a previous run left.
    const env = files.get(SUBNET_ENV_PATH);
    let previous;
    if (env !== undefined) {
      try {
        previous = parseSubnetEnv(env).subnet;
      } catch {
        previous = undefined;
      }
    }
    return createLocalSubnetManager({
      datastore: datastore!,
      ...(options.etcdPrefix !== undefined ? { prefix: options.etcdPrefix } : {}),
      clock,
      rng: new SeededRng(seedOf(node.name, 'subnet')),
      ...(previous !== undefined ? { previousSubnet: previous } : {}),
      ...(options.subnetTtlSeconds !== undefined ? { subnetTtlSeconds: options.subnetTtlSeconds } : {}),
    });
  }

  function newAgent(ctx: NodeContext, s: Pick<NodeState, 'files'>): Flanneld {
    const publicIP = options.publicIPs?.[ctx.node.name];
    return createFlanneld({
      host: ctx.host,
      netns: ctx.netns,
      node: ctx.node.name,
      subnetManager: subnetManagerFor(ctx.node, s.files),
      iface: ctx.uplink,
      ...(publicIP !== undefined ? { publicIP } : {}),
      ipMasq: options.ipMasq ?? true,
      iptablesForwardRules: options.iptablesForwardRules ?? true,
      ...(options.randomFully !== undefined ? { randomFully: options.randomFully } : {}),
      files: s.files,
      rng: new SeededRng(seedOf(ctx.node.name, 'flanneld')),
      clock,
    });
  }

  /** The watch: the new lease to every other running flanneld, a snapshot to the new one. */
  async function announce(agent: Flanneld): Promise<void> {
    const lease = (await agent.subnetManager.lookupLease(agent.lease!.subnet)) ?? agent.lease!;
    for (const s of nodes.values()) {
      if (s.agent === agent || s.agent.lease === undefined) continue;
      await s.agent.handleEvents([{ type: 'added', lease }]);
    }
    await agent.sync();
  }

  function stateOf(node: ClusterNode): NodeState {
    const s = nodes.get(node.name);
    if (s === undefined) throw new KnetError('EINVAL', `flannel: node ${node.name} has not been set up`, { node: node.name });
    return s;
  }

  async function runCni(s: NodeState, ctx: NodeContext, a: PodAttachment, command: 'ADD' | 'DEL'): Promise<string> {
    const bridge = createBridgeCniPlugin({ host: ctx.host, hostNetns: ctx.netns, ipamStore: () => s.store, hex: () => s.rng.hex(4) });
    const plugin = createFlannelCniPlugin({
      readFile: async (p) => s.files.get(p),
      writeFile: async (p, d) => {
        s.files.set(p, d);
      },
      removeFile: async (p) => {
        s.files.delete(p);
      },
      delegate: inProcessDelegate({ bridge }),
    });
    const list = createFlannelConfList();
    const conf = { cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] };
    let out = '';
    const code = await runCniPlugin(plugin, {
      env: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: a.containerId,
        CNI_NETNS: a.netns,
        CNI_IFNAME: a.ifname,
        CNI_ARGS: podCniArgs(a.pod, a.containerId),
        CNI_PATH: '/opt/cni/bin',
      },
      stdin: JSON.stringify(conf),
      stdout: (t) => {
        out += t;
      },
    });
    if (code !== 0) {
      const e = JSON.parse(out) as { code: number; msg: string; details?: string };
      const src = a.pod.source;
      throw new KnetError('EINVAL', `pod ${a.pod.namespace}/${a.pod.name} on node ${ctx.node.name}: plugin type="flannel" failed (${command.toLowerCase()}): ${e.msg}`, {
        ...(src !== undefined ? { file: src.file, document: src.document } : {}),
        field: a.pod.podIP !== undefined ? 'status.podIP' : 'spec.nodeName',
        node: ctx.node.name,
        pod: `${a.pod.namespace}/${a.pod.name}`,
        cniCode: e.code,
      });
    }
    return out;
  }

  const plugin: FlannelPlugin = {
    name: 'flannel',
    options,
    clock,
    netConfText() {
      if (netConfText === undefined) throw new KnetError('EINVAL', 'flannel: validate has not run', {});
      return netConfText;
    },
    netConf() {
      if (netConf === undefined) throw new KnetError('EINVAL', 'flannel: validate has not run', {});
      return netConf;
    },
    get datastore() {
      return datastore;
    },
    get kubeNodes() {
      return kubeNodes;
    },

    validate(cluster: ClusterState): void {
      try {
        resolveNetConf(cluster);
        createBackend(netConf!.backendType);
      } catch (e) {
        if (!isKnetError(e)) throw e;
        const f = e.details.field;
        throw new KnetError(e.code, `flannel net-conf.json: ${e.message}`, { ...e.details, field: `spec.cni.options.netConf${typeof f === 'string' ? `.${f}` : ''}` });
      }
      const conf = netConf!;
      const seen = new Map<string, string>();
      for (const n of cluster.nodes) {
        const src = n.source !== undefined ? { file: n.source.file, document: n.source.document } : {};
        const cidr = parseIpv4Cidr(n.podCIDR, { strict: false });
        if (mode === 'kube') {
          if (!(conf.network.prefix <= cidr.prefix && cidrContains(conf.network, cidr.address))) {
            throw new KnetError('EINVAL', `subnet "${formatIpv4Cidr(conf.network)}" specified in the flannel net config doesn't contain "${formatIpv4Cidr(cidr)}" PodCIDR of the "${n.name}" node`, {
              ...src,
              field: 'spec.podCIDR',
              node: n.name,
              value: n.podCIDR,
            });
          }
        } else if ((options.reservePodCIDRs ?? true) && !n.podCIDRAllocated) {
          if (cidr.prefix !== conf.subnetLen || cidr.address < conf.subnetMin || cidr.address > conf.subnetMax) {
            throw new KnetError(
              'EINVAL',
              `node ${n.name}: spec.podCIDR ${n.podCIDR} cannot be a flannel reservation: leases are /${conf.subnetLen} from SubnetMin ${formatIpv4Cidr({ address: conf.subnetMin, prefix: conf.subnetLen })} to SubnetMax ${formatIpv4Cidr({ address: conf.subnetMax, prefix: conf.subnetLen })} (flannel skips the first subnet unless SubnetMin says otherwise: set netConf.SubnetMin, or reservePodCIDRs: false)`,
              { ...src, field: 'spec.podCIDR', node: n.name, value: n.podCIDR },
            );
          }
          const other = seen.get(n.podCIDR);
          if (other !== undefined) throw new KnetError('EEXIST', `node ${n.name}: spec.podCIDR ${n.podCIDR} is node ${other}'s too`, { ...src, field: 'spec.podCIDR', node: n.name });
          seen.set(n.podCIDR, n.name);
        }
      }
      if (mode === 'kube') {
        kubeNodes = createKubeNodeStore(cluster.nodes.map((n) => ({ name: n.name, podCIDR: n.podCIDR, annotations: options.nodeAnnotations?.[n.name] ?? {} })));
      }
    },

    async setupFabric(ctx: FabricContext): Promise<void> {
      if (mode !== 'etcd') return;
      datastore =
        options.datastoreInstance ??
        (options.etcdEndpoints !== undefined && options.etcdEndpoints.length > 0 ? createEtcdDatastore({ endpoints: options.etcdEndpoints }) : createMemoryDatastore({ clock }));
      const prefix = (options.etcdPrefix ?? DEFAULT_ETCD_PREFIX).replace(/\/+$/, '');
      await datastore.put(`${prefix}/config`, netConfText!);
      if (options.reservePodCIDRs ?? true) {
        for (const n of ctx.cluster.nodes) {
          if (n.podCIDRAllocated) continue;
          await datastore.put(`${prefix}/subnets/${formatSubnetKey(parseIpv4Cidr(n.podCIDR, { strict: false }))}`, formatLeaseAttrs({ publicIP: options.publicIPs?.[n.name] ?? n.internalIP }));
        }
      }
    },

    async setupNode(ctx: NodeContext): Promise<void> {
      const { host, netns, node } = ctx;
      if (mode === 'etcd' && datastore === undefined) await plugin.setupFabric!({ host, cluster: ctx.cluster, netns: '', bridge: '' });
      await host.sysctlSet(netns, 'net.ipv4.ip_forward', '1');
      await bestEffort(host.sysctlSet(netns, 'net.bridge.bridge-nf-call-iptables', '1'));
      const files = nodes.get(node.name)?.files ?? new Map<string, string>();
      if (mode === 'kube') files.set(NET_CONF_PATH, netConfText!);
      files.set(FLANNEL_CONFLIST_PATH, JSON.stringify(createFlannelConfList(), null, 2));
      const agent = newAgent(ctx, { files });
      await agent.start();
      const prev = nodes.get(node.name);
      nodes.set(node.name, {
        files,
        store: prev?.store ?? options.ipamStore?.(node) ?? new MemoryIpamStore(),
        rng: prev?.rng ?? new SeededRng(seedOf(node.name, 'veth')),
        agent,
        ctx,
      });
      await announce(agent);
    },

    async addPod(ctx: NodeContext, a: PodAttachment): Promise<PodNetworkResult> {
      const s = stateOf(ctx.node);
      if (a.pod.hostNetwork) throw new KnetError('EINVAL', `pod ${a.pod.namespace}/${a.pod.name} uses the host network: flannel does not attach it`, { field: 'spec.hostNetwork' });
      // The runtime's loopback plugin.
      await ctx.host.linkSet(a.netns, 'lo', { up: true });
      const out = await runCni(s, ctx, a, 'ADD');
      const r = JSON.parse(out) as { interfaces?: { name: string }[]; ips?: { address: string; gateway?: string }[] };
      const ip = r.ips?.[0];
      if (ip === undefined) throw new KnetError('EIO', `pod ${a.pod.namespace}/${a.pod.name}: the flannel plugin returned no IP`, { node: ctx.node.name });
      const [addr, len] = ip.address.split('/') as [string, string];
      return {
        ip: addr,
        prefixlen: Number(len),
        ...(ip.gateway !== undefined ? { gateway: ip.gateway } : {}),
        ...(r.interfaces?.[1] !== undefined ? { hostIfname: r.interfaces[1].name } : {}),
      };
    },

    async delPod(ctx: NodeContext, a: PodAttachment): Promise<void> {
      await runCni(stateOf(ctx.node), ctx, a, 'DEL');
    },

    agent(node) {
      return nodes.get(node)?.agent;
    },
    files(node) {
      return nodes.get(node)?.files ?? new Map();
    },
    ipamStore(node) {
      return nodes.get(node)?.store;
    },
    async restartAgent(ctx) {
      const s = stateOf(ctx.node);
      s.agent.stop();
      const agent = newAgent(ctx, s);
      await agent.start();
      s.agent = agent;
      s.ctx = ctx;
      await announce(agent);
      return agent;
    },
    stopAgent(node) {
      const s = nodes.get(node);
      if (s === undefined) return;
      s.agent.stop();
      nodes.delete(node);
    },
    async sync() {
      for (const s of nodes.values()) await s.agent.renewIfDue();
      const out = new Map<string, readonly LeaseEvent[]>();
      for (const [name, s] of nodes) out.set(name, await s.agent.sync());
      return out;
    },
    async close() {
      await datastore?.close();
    },
  };
  return plugin;
}
