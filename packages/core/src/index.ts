/**
 * `@knet/core`: the contract every knet package implements, and the engine.
 *
 * @packageDocumentation
 */

// errors
export { KnetError, isKnetError, formatKnetError, ERRNO_TEXT } from './errors/knet-error.js';
export type { KnetErrorCode, KnetErrorDetails } from './errors/knet-error.js';

// ip
export {
  parseIpv4,
  tryParseIpv4,
  formatIpv4,
  isIpv4,
  parseIpv4Cidr,
  formatIpv4Cidr,
  cidrContains,
  cidrsOverlap,
  cidrSize,
  cidrLast,
  nthSubnet,
  prefixMask,
} from './ip/ipv4.js';
export type { Ipv4Cidr, ParseCidrOptions } from './ip/ipv4.js';
export { parseMac, macToBytes, macFromBytes, isMulticastMac, macToNumber, BROADCAST_MAC, ZERO_MAC } from './ip/mac.js';
export type { Mac } from './ip/mac.js';

// util
export { SeededRng, hashString } from './util/seeded-rng.js';

// host
export type { Host, LinkAddOptions, LinkSetOptions, RouteOptions, NeighOptions, FdbOptions, HostIptablesRestoreOptions, HostIptablesSaveOptions } from './host/host.js';
export type {
  LinkKind,
  OperState,
  BridgePortInfo,
  VxlanInfo,
  LinkInfo,
  Scope,
  AddressInfo,
  RouteType,
  RouteProto,
  RouteInfo,
  NeighState,
  NeighInfo,
  FdbInfo,
  NetnsMeta,
} from './host/types.js';

// packet
export {
  ETH_P_IP,
  ETH_P_ARP,
  ETH_P_IPV6,
  ETH_P_8021Q,
  IPPROTO_ICMP,
  IPPROTO_IPIP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  TCP_FIN,
  TCP_SYN,
  TCP_RST,
  TCP_PSH,
  TCP_ACK,
} from './packet/types.js';
export type {
  EthernetFrame,
  RawPayload,
  ArpPacket,
  Ipv4Packet,
  Ipv6Packet,
  IcmpMessage,
  UdpDatagram,
  VxlanPacket,
  TcpSegment,
} from './packet/types.js';
// packet codecs (packet/*.ts) — exports added below
export { encodeDnsQuery, DNS_TYPE_A, DNS_CLASS_IN } from './packet/dns-query.js';
export { onesComplementSum, internetChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum } from './packet/checksum.js';
export type { DecodeResult } from './packet/decode-result.js';
export {
  encodeEthernetFrame,
  encodeIpv4Packet,
  encodeIpv6Packet,
  ethernetFrameLength,
  ipPacketLength,
  icmpHasIdSeq,
  ETHERNET_HEADER_LENGTH,
  VXLAN_HEADER_LENGTH,
} from './packet/packet-encoder.js';
export { decodeEthernetFrame, decodeIpv4Packet, decodeIpv6Packet, VXLAN_UDP_PORTS } from './packet/packet-decoder.js';
export { formatPacket, formatIpPacket } from './packet/format-packet.js';
export type { FormatPacketOptions } from './packet/format-packet.js';
export { PcapWriter, LINKTYPE_ETHERNET, LINKTYPE_RAW, DEFAULT_SNAPLEN } from './packet/pcap-writer.js';
export type { PcapWriterOptions, PcapRecordOptions } from './packet/pcap-writer.js';
export { PcapngWriter } from './packet/pcapng-writer.js';
export type { PcapngWriterOptions, PcapngInterface, PcapngPacketOptions } from './packet/pcapng-writer.js';

// k8s manifests and cluster state — exports added below
export type {
  SourceRef,
  Labels,
  CniSpec,
  CloudRouteTableSpec,
  FabricSpec,
  KnetClusterSpec,
  ClusterNode,
  ContainerPort,
  ClusterContainer,
  ClusterPod,
  ServicePort,
  ClusterService,
  SliceEndpoint,
  ClusterEndpointSlice,
  ManifestWarning,
  ClusterState,
} from './cluster/cluster-state.js';
export type {
  NodeContext,
  FabricContext,
  PodAttachment,
  PodNetworkResult,
  NetworkPlugin,
} from './cluster/network-plugin.js';
export { loadManifests } from './k8s/load-manifests.js';
export type { ManifestInput, LoadedObject, LoadedManifests } from './k8s/load-manifests.js';
export { locateJsonError } from './k8s/locate-json-error.js';
export { manifestError, manifestWarning, sourceFieldPath } from './k8s/manifest-context.js';
export type { ManifestContext } from './k8s/manifest-context.js';
export { isManifestObject, isValidPortName, PORT_PROTOCOLS } from './k8s/manifest-fields.js';
export type { ManifestObject } from './k8s/manifest-fields.js';
export { validateMetadata } from './k8s/validate-metadata.js';
export type { ObjectMetadata } from './k8s/validate-metadata.js';
export { validateNamespace, namespaceLabels, LABEL_METADATA_NAME } from './k8s/validate-namespace.js';
export type { ValidatedNamespace } from './k8s/validate-namespace.js';
export { validateNode } from './k8s/validate-node.js';
export type { ValidatedNode } from './k8s/validate-node.js';
export { validatePod } from './k8s/validate-pod.js';
export type { ValidatedPod } from './k8s/validate-pod.js';
export { validateService, DEFAULT_CLIENT_IP_TIMEOUT_SECONDS } from './k8s/validate-service.js';
export type { ValidatedService } from './k8s/validate-service.js';
export { validateEndpointSlice, LABEL_SERVICE_NAME, LABEL_MANAGED_BY } from './k8s/validate-endpoint-slice.js';
export type { ValidatedEndpointSlice } from './k8s/validate-endpoint-slice.js';
export { validateEndpoints } from './k8s/validate-endpoints.js';
export type { ValidatedEndpoints, EndpointsSubset, EndpointsAddress, EndpointsPort } from './k8s/validate-endpoints.js';
export {
  mirrorEndpoints,
  shouldMirrorEndpoints,
  MIRRORING_CONTROLLER_NAME,
  LABEL_SKIP_MIRROR,
  LEADER_ELECTION_ANNOTATION,
  DEFAULT_MIRRORING_MAX_ENDPOINTS_PER_SUBSET,
} from './k8s/mirror-endpoints.js';
export type { MirrorEndpointsOptions } from './k8s/mirror-endpoints.js';
export { validateLabelSelector, LABEL_SELECTOR_OPERATORS } from './k8s/validate-label-selector.js';
export { validateNetworkPolicy } from './k8s/validate-network-policy.js';
export type { ValidatedNetworkPolicy } from './k8s/validate-network-policy.js';
export { validateKnetCluster, KNET_CLUSTER_API_VERSION, KNET_CLUSTER_DEFAULTS } from './k8s/validate-knet-cluster.js';
export type { KnetClusterSpecInput, ValidatedKnetCluster } from './k8s/validate-knet-cluster.js';
export { buildClusterState, KNOWN_KINDS } from './cluster/build-cluster-state.js';
export type { BuildClusterStateOptions } from './cluster/build-cluster-state.js';
export { CidrSet } from './cluster/cidr-set.js';
export { deriveFabricCidr, EMPTY_FABRIC_CIDR, MAX_DERIVED_FABRIC_PREFIX } from './cluster/derive-fabric-cidr.js';
export { EXAMPLE_CLUSTER_YAML, EXAMPLE_CLUSTER_FILE, loadExampleCluster } from './example/example-cluster.js';

// iproute2 formatters — exports added below
export { formatIpLink } from './format/format-ip-link.js';
export type { FormatIpLinkOptions } from './format/format-ip-link.js';
export { formatIpAddr } from './format/format-ip-addr.js';
export type { FormatIpAddrOptions } from './format/format-ip-addr.js';
export { formatIpRoute } from './format/format-ip-route.js';
export type { FormatIpRouteOptions } from './format/format-ip-route.js';
export { formatIpNeigh } from './format/format-ip-neigh.js';
export type { FormatIpNeighOptions } from './format/format-ip-neigh.js';
export { formatBridgeFdb } from './format/format-bridge-fdb.js';
export type { FormatBridgeFdbOptions } from './format/format-bridge-fdb.js';
export type { LinkContextOptions } from './format/ip-link-fields.js';

// ipam — exports added below
export {
  canonicalizeRange,
  canonicalizeRangeSet,
  rangeContains,
  rangeFor,
  rangeSetContains,
  rangesOverlap,
  rangeSetsOverlap,
  formatRange,
  formatRangeSet,
} from './ipam/range-set.js';
export type { RangeConf, IpRange, RangeSet } from './ipam/range-set.js';
export {
  IPAM_LINE_BREAK,
  LAST_RESERVED_IP_PREFIX,
  DEFAULT_HOST_LOCAL_DATA_DIR,
  formatIpamReservation,
} from './ipam/ipam-store.js';
export type { IpamStore } from './ipam/ipam-store.js';
export { MemoryIpamStore } from './ipam/memory-ipam-store.js';
export { parseHostLocalConf } from './ipam/host-local-conf.js';
export type {
  HostLocalRouteConf,
  HostLocalIpamConf,
  HostLocalNetConf,
  ParseHostLocalConfOptions,
  HostLocalConfig,
} from './ipam/host-local-conf.js';
export { HostLocalAllocator, HostLocalRangeIterator } from './ipam/host-local-allocator.js';
export type { HostLocalLease } from './ipam/host-local-allocator.js';
export { hostLocalAdd, hostLocalDel, hostLocalCheck } from './ipam/host-local.js';
export type { HostLocalArgs, HostLocalIpConfig, HostLocalResult } from './ipam/host-local.js';

// kernel (SimHost) and trace — exports added below
export { SimHost, createSimHost, IFNAMSIZ_MAX } from './kernel/sim-host.js';
export type { SimHostOptions, SimAddrOptions, SimNeighOptions, SimFdbOptions } from './kernel/sim-host.js';
export { SimNetns } from './kernel/sim-netns.js';
export type { SimAddress } from './kernel/sim-netns.js';
export { SimLink } from './kernel/link/sim-link.js';
export type { BridgeState, BridgePortState, VxlanState, BridgeFdbEntry, VxlanFdbEntry } from './kernel/link/sim-link.js';
export { RouteTable, RT_TABLE_MAIN, RT_TABLE_LOCAL, RT_TABLE_DEFAULT, formatSimRoute, toRouteInfo } from './kernel/route/route-table.js';
export type { SimRoute } from './kernel/route/route-table.js';
export { NeighTable, NEIGH_DEFAULTS } from './kernel/neigh/neigh-table.js';
export type { NeighEntry } from './kernel/neigh/neigh-table.js';
export { SysctlTable } from './kernel/sysctl-table.js';
export { SocketTable } from './kernel/socket/socket-table.js';
export type { SimSocket } from './kernel/socket/socket-table.js';
export { PacketEngine, synOptions } from './kernel/packet-engine.js';
export type { DeliveryRecord, EngineRunOptions, Flight, NatEvent } from './kernel/packet-engine.js';
export type {
  DropReason,
  TraceFlow,
  HopStep,
  HopDetail,
  TraceHop,
  CapturedFrame,
  TraceVerdict,
  TraceResult,
  TraceDecision,
  TraceOutcome,
} from './trace/trace-types.js';
export { resolveEndpoint, tracePacket, traceAllPaths, listenContainerPorts } from './trace/trace-packet.js';
export type { TraceEndpoint, TracePacketOptions } from './trace/trace-packet.js';
export { formatTraceText, formatVerdict, formatOutcome, formatAllPathsText } from './trace/format-trace-text.js';
export type { FormatTraceTextOptions } from './trace/format-trace-text.js';
export { formatTraceJson, TRACE_SCHEMA } from './trace/format-trace-json.js';
export { writeTracePcap } from './trace/write-trace-pcap.js';
export { buildCluster, clusterNames, fabricPortName, podContainerId, FABRIC } from './cluster/build-cluster.js';
export type { BuiltCluster, BuiltPod, ClusterNames, BuildClusterOptions } from './cluster/build-cluster.js';

// cni — exports added below (browser-safe parts; the Node.js runtime, executables' main and the
// on-disk host-local store are exported from linux.ts)
export { CniError, isCniError, toCniError, CNI_ERROR_CODES } from './cni/cni-error.js';
export type { CniErrorJson } from './cni/cni-error.js';
export {
  GoJsonSyntaxError,
  checkGoJson,
  parseGoJson,
  goQuote,
  goQuoteBytes,
  goQuoteList,
  goStringList,
  goJsonKind,
  goUnmarshalTypeMessage,
  formatGoJson,
  formatGoJsonIndent,
} from './cni/go-json.js';
export {
  CNI_SPEC_VERSIONS,
  CURRENT_CNI_VERSION,
  parseCniVersion,
  cniVersionAtLeast,
  cniVersionGreaterThan,
  decodeConfigVersion,
  checkCniVersionSupported,
  decodeCniVersionInfo,
} from './cni/cni-version.js';
export type { CniSpecVersion, CniVersionInfo } from './cni/cni-version.js';
export type {
  CniInterface,
  CniIpConfig,
  CniRoute,
  CniDns,
  CniResult,
  CniInterface040,
  CniIpConfig040,
  CniResult040,
  CniIpConfig020,
  CniResult020,
  AnyCniResult,
  CniPluginConf,
  CniNetConfList,
  CniGcAttachment,
} from './cni/cni-types.js';
export { parseCniResult, convertCniResult, formatCniResult, cniResultToJson, isIpAddressText, isCidrText } from './cni/cni-result.js';
export { splitCniArgs, parseCniArgs, formatCniArgs, K8S_CNI_ARGS } from './cni/cni-args.js';
export type { CniArgs } from './cni/cni-args.js';
export { validateContainerId, validateNetworkName, validateInterfaceName, MAX_INTERFACE_NAME_LENGTH } from './cni/validate-cni-names.js';
export { runCniPlugin, parsePrevResult } from './cni/cni-skel.js';
export type { CniCommand, CniCmdArgs, CniPlugin, CniPluginIo } from './cni/cni-skel.js';
export { cniLauncherScript } from './cni/cni-launcher.js';
export type { CniLauncherOptions } from './cni/cni-launcher.js';
export { parseCniNetConfList, parseCniPluginConf, cniConfListFromConf } from './cni/cni-conf.js';
export type { IpamReservation } from './ipam/ipam-store.js';
export { hostLocalGc } from './ipam/host-local.js';

// conntrack — exports added below
export { ConntrackTable, matchesConntrackFilter, quotedTuple } from './kernel/conntrack/conntrack-table.js';
export type {
  ConntrackState,
  ConntrackDirection,
  PacketCt,
  ConntrackTableOptions,
  ConntrackStats,
  ConntrackFilter,
  NatHookOptions,
  NatHookResult,
  MasqueradeOptions,
} from './kernel/conntrack/conntrack-table.js';
export { ConntrackEntry, IPS, TCP_CONNTRACK_STATES } from './kernel/conntrack/conntrack-entry.js';
export type { TcpConntrackState, TcpWindowState, TcpTracking, ConntrackL4 } from './kernel/conntrack/conntrack-entry.js';
export {
  tupleOfPacket,
  invertTuple,
  tuplesEqual,
  tupleKey,
  makeTuple,
  icmpInverseType,
  isIcmpError,
  hasPorts,
  IPPROTO_GRE,
  IPPROTO_UDPLITE,
} from './kernel/conntrack/conntrack-tuple.js';
export type { ConntrackTuple } from './kernel/conntrack/conntrack-tuple.js';
export { DEFAULT_CONNTRACK_TIMEOUTS } from './kernel/conntrack/conntrack-timeouts.js';
export type { ConntrackTimeouts } from './kernel/conntrack/conntrack-timeouts.js';
export { tcpConntrackTransition, IP_CT_TCP_FLAG } from './kernel/conntrack/tcp-conntrack.js';
export type { TcpFlagSet, TcpTrackerSettings, TcpVerdict } from './kernel/conntrack/tcp-conntrack.js';
export { hookManip, natSetupInfo, natAllocNullBinding, natInitialized } from './kernel/conntrack/nat-core.js';
export type { NatManip, NatHook, NfNatRange, NatIndex } from './kernel/conntrack/nat-core.js';
export { natPacket } from './kernel/conntrack/nat-packet.js';
export { applyNatRequest, conntrackView } from './kernel/conntrack/apply-nat-request.js';
export type {
  NatTargetRequest,
  NatTargetContext,
  ConntrackViewData,
  ConntrackViewTuple,
  ConntrackViewStatus,
} from './kernel/conntrack/apply-nat-request.js';
export { jhash2, nativeWord, reciprocalScale } from './kernel/conntrack/jhash.js';
export {
  formatConntrackList,
  formatConntrackEntry,
  formatConntrackSummary,
  CONNTRACK_TOOLS_VERSION,
} from './kernel/conntrack/format-conntrack-list.js';
export type { FormatConntrackListOptions } from './kernel/conntrack/format-conntrack-list.js';

// netfilter — exports added below
export { TABLE_BUILTIN_CHAINS, NETFILTER_TABLES } from './kernel/netfilter/netfilter-types.js';
export type {
  NetfilterTableName,
  NetfilterHook,
  ChainPolicy,
  Counters,
  AddressMask,
  IpHeaderMatch,
  PortRange,
  TcpMatch,
  UdpMatch,
  SctpMatch,
  IcmpMatch,
  CommentMatch,
  MarkMatch,
  StatisticNthState,
  StatisticMatch,
  RecentCommand,
  RecentMatch,
  AddrType,
  AddrtypeMatch,
  CtState,
  CtStatus,
  ConntrackMatch,
  StateMatch,
  SetMatch,
  PhysdevMatch,
  MultiportMatch,
  NfacctMatch,
  NetfilterMatch,
  RejectWith,
  NatRange,
  NetfilterTarget,
  NetfilterRule,
  NetfilterChain,
  NetfilterTable,
} from './kernel/netfilter/netfilter-types.js';
export { createNetfilterState, createTable, ensureTable, isBuiltinChain, isIpsetReferenced } from './kernel/netfilter/netfilter-state.js';
export type { NetfilterState } from './kernel/netfilter/netfilter-state.js';
export { applyIptablesRestore, parseIptablesRestore } from './kernel/netfilter/iptables-restore.js';
export type {
  IptablesRestoreOptions,
  RestoreOperation,
  RestoreTableBlock,
  IptablesRestoreResult,
} from './kernel/netfilter/iptables-restore.js';
export { formatIptablesSave, formatIptablesTable, chainOrder } from './kernel/netfilter/iptables-save.js';
export type { FormatIptablesSaveOptions } from './kernel/netfilter/iptables-save.js';
export { parseRuleCommand, parseRuleSpec, formatRuleSpec, splitRuleWords } from './kernel/netfilter/parse-rule-command.js';
export type { ParsedRule, RuleCommand, ParseRuleCommandOptions } from './kernel/netfilter/parse-rule-command.js';
export { formatProbability, probabilityToFixed } from './kernel/netfilter/match-modules.js';
export {
  PROTOCOL_NAMES,
  lookupProtocol,
  protocolName,
  REJECT_TYPES,
  REJECT_ICMP,
  ADDR_TYPES,
} from './kernel/netfilter/netfilter-names.js';
export { evaluateChain, TARGET_EVALUATORS } from './kernel/netfilter/evaluate-chain.js';
export type { EvaluateChainOptions } from './kernel/netfilter/evaluate-chain.js';
export { evaluateMatch, matchIpHeader, MATCH_EVALUATORS, packetSetElement } from './kernel/netfilter/evaluate-match.js';
export { packetViewOf } from './kernel/netfilter/packet-view-of.js';
export type { PacketViewOptions } from './kernel/netfilter/packet-view-of.js';
export type {
  PacketView,
  CtTuple,
  ConntrackView,
  MatchedRule,
  StatisticChooser,
  EvaluateContext,
  NatRequest,
  LogRecord,
  MarkChange,
  ChainEvaluation,
} from './kernel/netfilter/evaluate-types.js';
export { RecentTables, RecentList, RECENT_IP_LIST_TOT, RECENT_IP_PKT_LIST_TOT } from './kernel/netfilter/recent-table.js';
export type { RecentEntry } from './kernel/netfilter/recent-table.js';
export { IPSET_TYPES, IPSET_DIMENSIONS } from './kernel/ipset/ipset-types.js';
export type { IpsetType, IpsetCreateOptions, IpsetElement, IpsetEntry, IpsetTestResult } from './kernel/ipset/ipset-types.js';
export { IpsetStore, Ipset } from './kernel/ipset/ipset-store.js';
export type { IpsetAddOptions } from './kernel/ipset/ipset-store.js';
export { parseIpsetElements, formatIpsetElement, ipsetElementKey, IpsetSyntaxError } from './kernel/ipset/ipset-element.js';
export { applyIpsetRestore, parseIpsetRestore, parseIpsetLine, runIpsetCommand } from './kernel/ipset/ipset-restore.js';
export type { IpsetRestoreOptions, IpsetCommand } from './kernel/ipset/ipset-restore.js';
export { formatIpsetSave, formatIpsetCreate } from './kernel/ipset/ipset-save.js';
export type { FormatIpsetSaveOptions } from './kernel/ipset/ipset-save.js';
// netfilter, IPv6 (ip6tables)
export type { NetfilterFamily, Ipv6AddressMask, Icmp6Match, Reject6With } from './kernel/netfilter/netfilter-types.js';
export { netfilterFamily } from './kernel/netfilter/netfilter-state.js';
export type { CreateNetfilterStateOptions } from './kernel/netfilter/netfilter-state.js';
export type { Ip6PacketView } from './kernel/netfilter/evaluate-types.js';
export { matchIp6Header } from './kernel/netfilter/evaluate-match.js';
export { ip6PacketViewOf } from './kernel/netfilter/packet-view-of.js';
export { ICMP6_TYPE_NAMES, REJECT6_TYPES, REJECT6_ICMP } from './kernel/netfilter/netfilter-names.js';
export { parseIpv6AddressMask, formatIpv6AddressMask } from './kernel/netfilter/parse-helpers.js';
export { familyStaticProblem } from './kernel/netfilter/family-static-problem.js';
export type { RecentKey } from './kernel/netfilter/recent-table.js';
export {
  IPV6_ANY,
  IPV6_HOST_MASK,
  tryParseIpv6Words,
  formatIpv6Words,
  ipv6WordsOfBytes,
  ipv6BytesOfWords,
  ipv6PrefixMask,
  ipv6MaskToCidr,
  maskIpv6Words,
  ipv6MaskedEquals,
  ipv6WordsEqual,
} from './kernel/netfilter/ipv6-words.js';
export type { Ipv6Words } from './kernel/netfilter/ipv6-words.js';

// datastore — exports added below
export { createIfAbsentTxn, compareAndSwapTxn, prefixRangeEnd } from './datastore/datastore.js';
export type {
  Datastore,
  DatastoreEntry,
  DatastoreCompare,
  DatastoreOp,
  DatastoreOpResult,
  DatastoreTxn,
  DatastoreTxnResult,
  DatastoreLease,
  DatastoreEvent,
} from './datastore/datastore.js';
export { createManualClock } from './datastore/datastore-clock.js';
export type { DatastoreClock, ManualClock } from './datastore/datastore-clock.js';
export { createMemoryDatastore } from './datastore/memory-datastore.js';
export type { MemoryDatastoreOptions } from './datastore/memory-datastore.js';
export { createEtcdDatastore } from './datastore/etcd-datastore.js';
export type { EtcdDatastoreOptions } from './datastore/etcd-datastore.js';

// netpol — exports added below
export { ADMIN_NETWORK_POLICY_API_VERSION } from './netpol/network-policy-api.js';
export type {
  PolicyProtocol,
  LabelSelectorRequirementObject,
  LabelSelectorObject,
  PolicyObjectMeta,
  IpBlockObject,
  NetworkPolicyPeerObject,
  NetworkPolicyPortObject,
  NetworkPolicyIngressRuleObject,
  NetworkPolicyEgressRuleObject,
  NetworkPolicySpecObject,
  NetworkPolicyObject,
  NamespacedPodObject,
  AdminNetworkPolicySubjectObject,
  AdminNetworkPolicyPortObject,
  AdminNetworkPolicyPeerObject,
  AdminNetworkPolicyIngressRuleObject,
  AdminNetworkPolicyEgressRuleObject,
  AdminNetworkPolicyObject,
  BaselineAdminNetworkPolicyObject,
} from './netpol/network-policy-api.js';
export type {
  ParsedLabelRequirement,
  ParsedLabelSelector,
  ParsedIpBlock,
  ParsedNetworkPolicyPeer,
  ParsedNetworkPolicyPort,
  ParsedNetworkPolicyRule,
  ParsedNetworkPolicy,
  ParsedAdminSubject,
  ParsedAdminPeer,
  ParsedAdminPort,
  AdminRuleAction,
  ParsedAdminRule,
  ParsedAdminNetworkPolicy,
} from './netpol/parsed-policy.js';
export { parseLabelSelector, matchesLabelSelector, formatLabelSelector, isEmptyLabelSelector } from './netpol/label-selector.js';
export { readIpBlock, readPolicyCidr } from './k8s/validate-network-policy.js';
export {
  validateAdminNetworkPolicy,
  validateBaselineAdminNetworkPolicy,
  ADMIN_MAX_RULES,
  ADMIN_MAX_PRIORITY,
} from './netpol/validate-admin-network-policy.js';
export {
  podSetWords,
  emptyPodSet,
  fullPodSet,
  podSetHas,
  podSetAdd,
  podSetOf,
  podSetOrInto,
  podSetAndInto,
  podSetAndNotInto,
  podSetIsEmpty,
  podSetCount,
  podSetToArray,
} from './netpol/pod-set.js';
export type { PodSet } from './netpol/pod-set.js';
export { buildPolicyIndex, ipInBlock } from './netpol/build-policy-index.js';
export type {
  BuildPolicyIndexOptions,
  IndexedPod,
  IndexedNode,
  CompiledNetworkPolicyPeer,
  CompiledNetworkPolicyRule,
  CompiledNetworkPolicy,
  CompiledAdminPeer,
  CompiledAdminRule,
  CompiledAdminPolicy,
  PolicyIndex,
} from './netpol/build-policy-index.js';
export { describeNetworkPolicyPort, describeNetworkPolicyPeer, describeAdminPort, describeAdminPeer } from './netpol/describe-policy.js';
export {
  evaluateConnection,
  resolvePolicyEndpoint,
  endpointName,
  npPortMatches,
  adminPortMatches,
  resolvesNamedPort,
} from './netpol/evaluate-connection.js';
export type {
  PolicyEndpoint,
  PolicyTier,
  NetworkPolicyRuleVerdict,
  NetworkPolicyVerdict,
  AdminRuleVerdict,
  SideExplanation,
  ConnectionVerdict,
} from './netpol/evaluate-connection.js';
export { computeReachabilityMatrix, isReachable, groupEquivalentPods } from './netpol/reachability-matrix.js';
export type { ReachabilityMatrixOptions, ReachabilityMatrix } from './netpol/reachability-matrix.js';
export { formatConnectionVerdict } from './netpol/format-connection-verdict.js';
export {
  formatReachabilityTable,
  formatReachabilityJson,
  formatReachabilityCsv,
  formatReachabilityMarkdown,
  formatReachabilityDot,
  REACH_SCHEMA,
} from './netpol/format-reachability.js';
export type { ReachabilityEntry } from './netpol/format-reachability.js';

// packet engine: userspace tun readers — exports added below
export { attachTunReader } from './kernel/packet-engine.js';
export type { TunReader, TunReaderIo } from './kernel/packet-engine.js';

// cni: the bridge plugin (steps shared by bridge-based CNIs, and the plugin itself) — exports added below
export {
  bestEffort,
  bridgeGatewayOf,
  ensureBridge,
  ensureBridgeAddr,
  formatGoRoute,
  ipamCniError,
  randomVethHex,
  setupVeth,
  teardownPodInterfaces,
  VETH_NAME_TRIES,
} from './cni/bridge-steps.js';
export type { EnsureBridgeOptions, SetupVethOptions } from './cni/bridge-steps.js';
export { createBridgeCniPlugin } from './cni/bridge-cni-plugin.js';
export type { BridgeCniPluginOptions } from './cni/bridge-cni-plugin.js';
export { parseBridgeCniConf, DEFAULT_BRIDGE_NAME } from './cni/bridge-cni-conf.js';
export type { ParseBridgeCniConfOptions } from './cni/bridge-cni-conf.js';
export type { BridgeCniConf } from './cni/bridge-cni-conf.js';
export { ipMasqChainName, ipMasqComment, setupIpMasq, teardownIpMasq } from './cni/ip-masq-chain.js';
