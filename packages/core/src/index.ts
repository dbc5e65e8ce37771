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
export type { Host, LinkAddOptions, LinkSetOptions, RouteOptions, NeighOptions, FdbOptions } from './host/host.js';
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

// k8s manifests and cluster state — exports added below

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
export type { SimHostOptions } from './kernel/sim-host.js';
export { SimNetns } from './kernel/sim-netns.js';
export type { SimAddress } from './kernel/sim-netns.js';
export { SimLink } from './kernel/link/sim-link.js';
export { RouteTable, RT_TABLE_MAIN, RT_TABLE_LOCAL, RT_TABLE_DEFAULT, formatSimRoute, toRouteInfo } from './kernel/route/route-table.js';
export type { SimRoute } from './kernel/route/route-table.js';
export { NeighTable, NEIGH_DEFAULTS } from './kernel/neigh/neigh-table.js';
export { SysctlTable } from './kernel/sysctl-table.js';
export { SocketTable } from './kernel/socket/socket-table.js';
export type { SimSocket } from './kernel/socket/socket-table.js';
