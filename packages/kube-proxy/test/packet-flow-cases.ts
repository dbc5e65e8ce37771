/**
 * Every packet-flow expectation of upstream's iptables proxier tests, as data for knet's
 * netfilter engine.
 *
 * Source: kubernetes pkg/proxy/iptables/proxier_test.go (the copy described in
 * /work/shared/facts/kube-proxy.md section 0): each `runPacketFlowTests` call, with its inputs
 * re-expressed as manifests under ./fixtures/packet-flow/ (or as a direct `ProxyInput` where core's
 * manifest validation cannot express the case: IPv6 Services). 246 flows in all, the number the
 * facts' cross-check reproduced.
 *
 * How to run a case (what upstream's tracer, proxier_test.go tracePacket, does):
 * 1. Create `createIptablesProxier(c.options)` on a fresh node with the built-in chains.
 * 2. For each step in order: `sync(loadPacketFlowInput(step.input))`, apply `ensureRules`
 *    (first sync) and the payload with `iptables-restore --noflush`, then trace every flow.
 *    (For `rules` cases, restore that text instead.)
 * 3. A flow is a packet `sourceIP → destIP:destPort/protocol` entering at nat PREROUTING (which
 *    jumps to KUBE-SERVICES); after nat, its destination is the first DNAT target; then the
 *    filter chains KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS and KUBE-PROXY-FIREWALL
 *    decide. `--src-type/--dst-type LOCAL` is true exactly for PACKET_FLOW_LOCAL_IPS; rules that
 *    test `--rcheck`, `--mark` or `--ctstate` never match (a first packet, no history).
 * 4. `output` is every endpoint a DNAT can pick, in rule order, joined with ", " (a
 *    `--probability` jump does not end the calling chain, so all are collected); or the verdict
 *    `ACCEPT`, `DROP` or `REJECT` of a filter rule; or "" when no rule decided. `masq` is whether
 *    KUBE-MARK-MASQ was reached (the packet is masqueraded in POSTROUTING).
 */
import type { CreateIptablesProxierOptions, ProxyInput } from '../src/index.js';
import {
  TEST_EXTERNAL_CLIENT,
  TEST_EXTERNAL_CLIENT_BLOCKED,
  TEST_NODE_IP,
  TEST_NODE_IPS,
  TEST_NODE_IPV6,
  TEST_NODE_IPV6_ALT,
  TEST_NODE_IP_ALT,
  fakeProxierOptions,
  loadFixtures,
} from './upstream-fake.js';

/** One traced packet and what upstream's tracer reports for it. */
export interface PacketFlow {
  readonly name: string;
  readonly sourceIP: string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly destIP: string;
  readonly destPort: number;
  /** DNAT targets in rule order joined by ", ", or ACCEPT / DROP / REJECT, or "". */
  readonly output: string;
  /** The packet reached KUBE-MARK-MASQ. */
  readonly masq: boolean;
}

/** Manifests (relative to ./fixtures/, loaded after knet-cluster.yaml) or a direct input. */
export type PacketFlowInput = { readonly manifests: readonly string[] } | { readonly input: ProxyInput };

/** One sync of the proxier followed by traces. */
export interface PacketFlowStep {
  readonly description: string;
  readonly input: PacketFlowInput;
  readonly flows: readonly PacketFlow[];
}

/** One upstream test (or sub-test): proxier options and the steps. */
export interface PacketFlowCase {
  readonly upstreamTest: string;
  /** The `t.Run` sub-test name, '' for none. */
  readonly name: string;
  /** The proxier (NewFakeProxier plus the test's overrides); absent for a static ruleset. */
  readonly options?: CreateIptablesProxierOptions;
  /** A static iptables-restore ruleset traced instead of a rendered one (TestTracePacket). */
  readonly rules?: string;
  readonly steps: readonly PacketFlowStep[];
}

/** Addresses the tracer treats as LOCAL: 127.0.0.1, ::1 and testNodeIPs. */
export const PACKET_FLOW_LOCAL_IPS: readonly string[] = ['127.0.0.1', '::1', ...TEST_NODE_IPS];

/** The ProxyInput of a step. */
export function loadPacketFlowInput(input: PacketFlowInput): ProxyInput {
  return 'input' in input ? input.input : loadFixtures(...input.manifests);
}

function flow(name: string, sourceIP: string, destIP: string, destPort: number, output: string, masq = false, protocol: PacketFlow['protocol'] = 'TCP'): PacketFlow {
  return { name, sourceIP, protocol, destIP, destPort, output, masq };
}

const pf = (...files: string[]): PacketFlowInput => ({ manifests: files.map((f) => `packet-flow/${f}`) });
const NOTHING: PacketFlowInput = { manifests: [] };

// TestTracePacket: the tracer run against a fixed ruleset.
const TRACE_PACKET_RULES = `*filter
:INPUT - [0:0]
:FORWARD - [0:0]
:OUTPUT - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
-A INPUT -m comment --comment kubernetes health check service ports -j KUBE-NODEPORTS
-A INPUT -m conntrack --ctstate NEW -m comment --comment kubernetes externally-visible service portals -j KUBE-EXTERNAL-SERVICES
-A FORWARD -m comment --comment kubernetes forwarding rules -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment kubernetes service portals -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment kubernetes externally-visible service portals -j KUBE-EXTERNAL-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment kubernetes service portals -j KUBE-SERVICES
-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
COMMIT
*nat
:PREROUTING - [0:0]
:INPUT - [0:0]
:OUTPUT - [0:0]
:POSTROUTING - [0:0]
:KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
:KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
:KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
:KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
:KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
:KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
:KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
:KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
:KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
-A PREROUTING -m comment --comment kubernetes service portals -j KUBE-SERVICES
-A OUTPUT -m comment --comment kubernetes service portals -j KUBE-SERVICES
-A POSTROUTING -m comment --comment kubernetes postrouting rules -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade traffic for ns5/svc5:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"
-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
COMMIT
`;

/** TestNodePorts: one sub-test. IPv4 through manifests; IPv6 as direct input (core is IPv4-only). */
function nodePortsCase(name: string, family: 'IPv4' | 'IPv6', localhostNodePorts: boolean, nodePortAddresses: readonly string[] | undefined, allowAltNodeIP: boolean): PacketFlowCase {
  const v4 = family === 'IPv4';
  const svcIP = v4 ? '172.30.0.41' : 'fd00:172:30::41';
  const epIP1 = v4 ? '10.180.0.1' : 'fd00:10:180::1';
  const epIP2 = v4 ? '10.180.2.1' : 'fd00:10:180::2:1';
  const podIP = v4 ? '10.0.0.2' : 'fd00:10::2';
  const externalClientIP = v4 ? TEST_EXTERNAL_CLIENT : '2600:5200::1';
  const nodeIP = v4 ? TEST_NODE_IP : TEST_NODE_IPV6;
  const altNodeIP = v4 ? TEST_NODE_IP_ALT : TEST_NODE_IPV6_ALT;
  const localhostIP = v4 ? '127.0.0.1' : '::1';
  const join = (ip: string): string => (v4 ? `${ip}:80` : `[${ip}]:80`);
  const output = `${join(epIP1)}, ${join(epIP2)}`;
  const input: PacketFlowInput = v4
    ? pf('node-ports-ipv4.yaml')
    : {
        input: {
          services: [{ namespace: 'ns1', name: 'svc1', type: 'NodePort', clusterIP: svcIP, ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3001 }] }],
          endpointSlices: [
            {
              namespace: 'ns1',
              name: 'svc1-1',
              serviceName: 'svc1',
              addressType: 'IPv6',
              ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
              endpoints: [{ addresses: [epIP1] }, { addresses: [epIP2], nodeName: 'test-node' }],
            },
          ],
        },
      };
  const flows: PacketFlow[] = [
    flow('pod to cluster IP', podIP, svcIP, 80, output, false),
    flow('external to nodePort', externalClientIP, nodeIP, 3001, output, true),
    flow('node to nodePort', nodeIP, nodeIP, 3001, output, true),
    v4 && localhostNodePorts
      ? flow('localhost to nodePort gets masqueraded', localhostIP, localhostIP, 3001, output, true)
      : flow('localhost to nodePort is ignored', localhostIP, localhostIP, 3001, ''),
    allowAltNodeIP
      ? flow('external to nodePort on secondary IP', externalClientIP, altNodeIP, 3001, output, true)
      : flow('secondary nodeIP ignores NodePorts', externalClientIP, altNodeIP, 3001, ''),
  ];
  return {
    upstreamTest: 'TestNodePorts',
    name,
    options: { ...fakeProxierOptions(family), localhostNodePorts, ...(nodePortAddresses === undefined ? {} : { nodePortAddresses }) },
    steps: [{ description: 'NodePort Service with a remote and a local endpoint', input, flows }],
  };
}

/** TestInternalTrafficPolicy: one sub-test, then the endpoints deleted. */
function internalTrafficPolicyCase(name: string, policy: 'cluster' | 'local', endpoints: string, flows: PacketFlow[]): PacketFlowCase {
  return {
    upstreamTest: 'TestInternalTrafficPolicy',
    name,
    options: fakeProxierOptions(),
    steps: [
      { description: 'Service and endpoints', input: pf(`internal-traffic-policy/service-${policy}.yaml`, `internal-traffic-policy/endpoints-${endpoints}.yaml`), flows },
      {
        description: 'EndpointSlice deleted',
        input: pf(`internal-traffic-policy/service-${policy}.yaml`),
        flows: [flow('endpoints deleted', '10.0.0.2', '172.30.1.1', 80, 'REJECT')],
      },
    ],
  };
}

/** TestTerminatingEndpointsTrafficPolicyLocal/Cluster: one sub-test, then the endpoints deleted. */
function terminatingCase(policy: 'local' | 'cluster', name: string, flows: PacketFlow[]): PacketFlowCase {
  const file = name.replaceAll(' ', '-');
  return {
    upstreamTest: policy === 'local' ? 'TestTerminatingEndpointsTrafficPolicyLocal' : 'TestTerminatingEndpointsTrafficPolicyCluster',
    name,
    options: fakeProxierOptions(),
    steps: [
      { description: 'Service and endpoints', input: pf(`terminating-endpoints/service-${policy}.yaml`, `terminating-endpoints/${policy}-${file}.yaml`), flows },
      {
        description: 'EndpointSlice deleted',
        input: pf(`terminating-endpoints/service-${policy}.yaml`),
        flows: [
          flow('pod to clusterIP after endpoints deleted', '10.0.0.2', '172.30.1.1', 80, 'REJECT'),
          flow('external to LB after endpoints deleted', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, 'REJECT'),
        ],
      },
    ],
  };
}

// TestInternalExternalMasquerade: the shared flows (working local detector, no masqueradeAll) ...
const MASQUERADE_FLOWS: readonly PacketFlow[] = [
  flow('pod to ClusterIP', '10.0.0.2', '172.30.0.41', 80, '10.180.0.1:80, 10.180.1.1:80', false),
  flow('pod to NodePort', '10.0.0.2', TEST_NODE_IP, 3001, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('pod to LB', '10.0.0.2', '1.2.3.4', 80, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('node to ClusterIP', TEST_NODE_IP, '172.30.0.41', 80, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('node to NodePort', TEST_NODE_IP, TEST_NODE_IP, 3001, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('localhost to NodePort', '127.0.0.1', '127.0.0.1', 3001, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('node to LB', TEST_NODE_IP, '1.2.3.4', 80, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('external to ClusterIP', TEST_EXTERNAL_CLIENT, '172.30.0.41', 80, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('external to NodePort', TEST_EXTERNAL_CLIENT, TEST_NODE_IP, 3001, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('external to LB', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('pod to ClusterIP with eTP:Local', '10.0.0.2', '172.30.0.42', 80, '10.180.0.2:80, 10.180.1.2:80', false),
  flow('pod to NodePort with eTP:Local', '10.0.0.2', TEST_NODE_IP, 3002, '10.180.0.2:80, 10.180.1.2:80', false),
  flow('pod to LB with eTP:Local', '10.0.0.2', '5.6.7.8', 80, '10.180.0.2:80, 10.180.1.2:80', false),
  flow('node to ClusterIP with eTP:Local', TEST_NODE_IP, '172.30.0.42', 80, '10.180.0.2:80, 10.180.1.2:80', true),
  flow('node to NodePort with eTP:Local', TEST_NODE_IP, TEST_NODE_IP, 3001, '10.180.0.1:80, 10.180.1.1:80', true),
  flow('localhost to NodePort with eTP:Local', '127.0.0.1', '127.0.0.1', 3002, '10.180.0.2:80, 10.180.1.2:80', true),
  flow('node to LB with eTP:Local', TEST_NODE_IP, '5.6.7.8', 80, '10.180.0.2:80, 10.180.1.2:80', true),
  flow('external to ClusterIP with eTP:Local', TEST_EXTERNAL_CLIENT, '172.30.0.42', 80, '10.180.0.2:80, 10.180.1.2:80', true),
  flow('external to NodePort with eTP:Local', TEST_EXTERNAL_CLIENT, TEST_NODE_IP, 3002, '10.180.0.2:80', false),
  flow('external to LB with eTP:Local', TEST_EXTERNAL_CLIENT, '5.6.7.8', 80, '10.180.0.2:80', false),
  flow('pod to ClusterIP with iTP:Local', '10.0.0.2', '172.30.0.43', 80, '10.180.0.3:80', false),
  flow('pod to NodePort with iTP:Local', '10.0.0.2', TEST_NODE_IP, 3003, '10.180.0.3:80, 10.180.1.3:80', true),
  flow('pod to LB with iTP:Local', '10.0.0.2', '9.10.11.12', 80, '10.180.0.3:80, 10.180.1.3:80', true),
  flow('node to ClusterIP with iTP:Local', TEST_NODE_IP, '172.30.0.43', 80, '10.180.0.3:80', true),
  flow('node to NodePort with iTP:Local', TEST_NODE_IP, TEST_NODE_IP, 3003, '10.180.0.3:80, 10.180.1.3:80', true),
  flow('localhost to NodePort with iTP:Local', '127.0.0.1', '127.0.0.1', 3003, '10.180.0.3:80, 10.180.1.3:80', true),
  flow('node to LB with iTP:Local', TEST_NODE_IP, '9.10.11.12', 80, '10.180.0.3:80, 10.180.1.3:80', true),
  flow('external to ClusterIP with iTP:Local', TEST_EXTERNAL_CLIENT, '172.30.0.43', 80, '10.180.0.3:80', true),
  flow('external to NodePort with iTP:Local', TEST_EXTERNAL_CLIENT, TEST_NODE_IP, 3003, '10.180.0.3:80, 10.180.1.3:80', true),
  flow('external to LB with iTP:Local', TEST_EXTERNAL_CLIENT, '9.10.11.12', 80, '10.180.0.3:80, 10.180.1.3:80', true),
];

// ... and each sub-test's overrides, applied by flow name.
function masqueradeCase(name: string, masqueradeAll: boolean, localDetector: boolean, overrides: Record<string, { output?: string; masq?: boolean }>): PacketFlowCase {
  const flows = MASQUERADE_FLOWS.map((f) => {
    const o = overrides[f.name];
    return o === undefined ? f : { ...f, ...(o.output === undefined ? {} : { output: o.output }), ...(o.masq === undefined ? {} : { masq: o.masq }) };
  });
  const unknown = Object.keys(overrides).filter((n) => !MASQUERADE_FLOWS.some((f) => f.name === n));
  if (unknown.length > 0) throw new Error(`TestInternalExternalMasquerade overrides name no flow: ${unknown.join(', ')}`);
  return {
    upstreamTest: 'TestInternalExternalMasquerade',
    name,
    options: { ...fakeProxierOptions(), masqueradeAll, ...(localDetector ? {} : { localDetector: { mode: 'None' as const } }) },
    steps: [{ description: 'three LoadBalancer Services', input: pf('internal-external-masquerade.yaml'), flows }],
  };
}

export const PACKET_FLOW_CASES: readonly PacketFlowCase[] = [
  {
    upstreamTest: 'TestTracePacket',
    name: '',
    rules: TRACE_PACKET_RULES,
    steps: [
      {
        description: 'the static ruleset',
        input: NOTHING,
        flows: [
          flow('no match', '10.0.0.2', '10.0.0.3', 80, ''),
          flow('single endpoint', '10.0.0.2', '172.30.0.41', 80, '10.180.0.1:80'),
          flow('multiple endpoints', '10.0.0.2', '172.30.0.44', 80, '10.180.0.4:80, 10.180.0.5:80'),
          flow('LOCAL, KUBE-MARK-MASQ', TEST_NODE_IP, '192.168.99.22', 80, '10.180.0.2:80', true),
          flow('DROP', TEST_EXTERNAL_CLIENT, '192.168.99.22', 80, 'DROP'),
          flow('ACCEPT (NodePortHealthCheck)', TEST_NODE_IP, TEST_NODE_IP, 30000, 'ACCEPT'),
          flow('REJECT', '10.0.0.2', '172.30.0.46', 80, 'REJECT'),
        ],
      },
    ],
  },
  {
    upstreamTest: 'TestNoEndpointsReject',
    name: '',
    options: fakeProxierOptions(),
    steps: [
      {
        description: 'LoadBalancer Service without endpoints',
        input: pf('no-endpoints-reject.yaml'),
        flows: [
          flow('pod to cluster IP with no endpoints', '10.0.0.2', '172.30.0.41', 80, 'REJECT'),
          flow('external to external IP with no endpoints', TEST_EXTERNAL_CLIENT, '192.168.99.11', 80, 'REJECT'),
          flow('pod to NodePort with no endpoints', '10.0.0.2', TEST_NODE_IP, 3001, 'REJECT'),
          flow('external to NodePort with no endpoints', TEST_EXTERNAL_CLIENT, TEST_NODE_IP, 3001, 'REJECT'),
          flow('pod to LoadBalancer IP with no endpoints', '10.0.0.2', '1.2.3.4', 80, 'REJECT'),
          flow('external to LoadBalancer IP with no endpoints', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, 'REJECT'),
        ],
      },
    ],
  },
  {
    upstreamTest: 'TestClusterIPGeneral',
    name: '',
    options: fakeProxierOptions(),
    steps: [
      {
        description: 'ClusterIP Services',
        input: pf('cluster-ip-general.yaml'),
        flows: [
          flow('simple clusterIP', '10.180.0.2', '172.30.0.41', 80, '10.180.0.1:80', false),
          flow('hairpin to cluster IP', '10.180.0.1', '172.30.0.41', 80, '10.180.0.1:80', true),
          flow('clusterIP with multiple endpoints', '10.180.0.2', '172.30.0.42', 80, '10.180.0.1:80, 10.180.2.1:80', false),
          flow('clusterIP with TargetPort', '10.180.0.2', '172.30.0.42', 443, '10.180.0.1:8443, 10.180.2.1:8443', false),
          flow('clusterIP with TCP, UDP, and SCTP on same port (TCP)', '10.180.0.2', '172.30.0.42', 53, '10.180.0.1:5353, 10.180.2.1:5353', false, 'TCP'),
          flow('clusterIP with TCP, UDP, and SCTP on same port (UDP)', '10.180.0.2', '172.30.0.42', 53, '10.180.0.1:53, 10.180.2.1:53', false, 'UDP'),
          flow('clusterIP with TCP, UDP, and SCTP on same port (SCTP)', '10.180.0.2', '172.30.0.42', 53, '10.180.0.1:53, 10.180.2.1:53', false, 'SCTP'),
          flow('TCP-only port does not match UDP traffic', '10.180.0.2', '172.30.0.42', 80, '', false, 'UDP'),
          flow("svc1 does not accept svc2's ports", '10.180.0.2', '172.30.0.41', 443, ''),
        ],
      },
    ],
  },
  {
    upstreamTest: 'TestLoadBalancer',
    name: '',
    options: fakeProxierOptions(),
    steps: [
      {
        description: 'LoadBalancer with source ranges',
        input: pf('load-balancer.yaml'),
        flows: [
          flow('pod to cluster IP', '10.0.0.2', '172.30.0.41', 80, '10.180.0.1:80', false),
          flow('external to nodePort', TEST_EXTERNAL_CLIENT, TEST_NODE_IP, 3001, '10.180.0.1:80', true),
          flow('nodePort bypasses LoadBalancerSourceRanges', TEST_EXTERNAL_CLIENT_BLOCKED, TEST_NODE_IP, 3001, '10.180.0.1:80', true),
          flow('accepted external to LB1', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, '10.180.0.1:80', true),
          flow('accepted external to LB2', TEST_EXTERNAL_CLIENT, '5.6.7.8', 80, '10.180.0.1:80', true),
          flow('blocked external to LB1', TEST_EXTERNAL_CLIENT_BLOCKED, '1.2.3.4', 80, 'DROP'),
          flow('blocked external to LB2', TEST_EXTERNAL_CLIENT_BLOCKED, '5.6.7.8', 80, 'DROP'),
          flow('pod to LB1 (blocked by LoadBalancerSourceRanges)', '10.0.0.2', '1.2.3.4', 80, 'DROP'),
          flow('pod to LB2 (blocked by LoadBalancerSourceRanges)', '10.0.0.2', '5.6.7.8', 80, 'DROP'),
          flow('node to LB1 (allowed by LoadBalancerSourceRanges)', TEST_NODE_IP, '1.2.3.4', 80, '10.180.0.1:80', true),
          flow('node to LB2 (allowed by LoadBalancerSourceRanges)', TEST_NODE_IP, '5.6.7.8', 80, '10.180.0.1:80', true),
          flow('same node to LB1, SNATted to LB1 (implicitly allowed)', '1.2.3.4', '1.2.3.4', 80, '10.180.0.1:80', true),
          flow('same node to LB2, SNATted to LB2 (implicitly allowed)', '5.6.7.8', '5.6.7.8', 80, '10.180.0.1:80', true),
        ],
      },
    ],
  },
  nodePortsCase('ipv4, localhost-nodeports enabled', 'IPv4', true, undefined, true),
  nodePortsCase('ipv4, localhost-nodeports disabled', 'IPv4', false, undefined, true),
  nodePortsCase('ipv4, localhost-nodeports disabled, localhost in nodeport-addresses', 'IPv4', false, ['192.168.0.0/24', '127.0.0.1/32'], false),
  nodePortsCase('ipv4, localhost-nodeports enabled, multiple nodeport-addresses', 'IPv4', false, ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], true),
  nodePortsCase('ipv6, localhost-nodeports enabled', 'IPv6', true, undefined, true),
  nodePortsCase('ipv6, localhost-nodeports disabled', 'IPv6', false, undefined, true),
  nodePortsCase('ipv6, localhost-nodeports disabled, multiple nodeport-addresses', 'IPv6', false, ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], false),
  {
    upstreamTest: 'TestHealthCheckNodePort',
    name: '',
    options: { ...fakeProxierOptions(), nodePortAddresses: ['127.0.0.0/8'] },
    steps: [
      {
        description: 'LoadBalancer with eTP Local and a health check node port',
        input: pf('health-check-node-port.yaml'),
        flows: [flow('firewall accepts HealthCheckNodePort', '1.2.3.4', TEST_NODE_IP, 30000, 'ACCEPT', false)],
      },
      {
        description: 'Service deleted',
        input: NOTHING,
        flows: [flow('HealthCheckNodePort no longer has any rule', '1.2.3.4', TEST_NODE_IP, 30000, '')],
      },
    ],
  },
  {
    upstreamTest: 'TestExternalTrafficPolicyLocal',
    name: '',
    options: fakeProxierOptions(),
    steps: [
      {
        description: 'LoadBalancer, eTP Local, one local and one remote endpoint',
        input: pf('external-traffic-policy-local.yaml'),
        flows: [
          flow('pod to cluster IP hits both endpoints, unmasqueraded', '10.0.0.2', '172.30.0.41', 80, '10.180.0.1:80, 10.180.2.1:80', false),
          flow('pod to external IP hits both endpoints, unmasqueraded', '10.0.0.2', '192.168.99.11', 80, '10.180.0.1:80, 10.180.2.1:80', false),
          flow('external to external IP hits only local endpoint, unmasqueraded', TEST_EXTERNAL_CLIENT, '192.168.99.11', 80, '10.180.2.1:80', false),
          flow('pod to LB IP hits only both endpoints, unmasqueraded', '10.0.0.2', '1.2.3.4', 80, '10.180.0.1:80, 10.180.2.1:80', false),
          flow('external to LB IP hits only local endpoint, unmasqueraded', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, '10.180.2.1:80', false),
          flow('pod to NodePort hits both endpoints, unmasqueraded', '10.0.0.2', TEST_NODE_IP, 3001, '10.180.0.1:80, 10.180.2.1:80', false),
          flow('external to NodePort hits only local endpoint, unmasqueraded', TEST_EXTERNAL_CLIENT, TEST_NODE_IP, 3001, '10.180.2.1:80', false),
        ],
      },
    ],
  },
  {
    upstreamTest: 'TestExternalTrafficPolicyCluster',
    name: '',
    options: fakeProxierOptions(),
    steps: [
      {
        description: 'LoadBalancer, eTP Cluster, one local and one remote endpoint',
        input: pf('external-traffic-policy-cluster.yaml'),
        flows: [
          flow('pod to cluster IP hits both endpoints, unmasqueraded', '10.0.0.2', '172.30.0.41', 80, '10.180.0.1:80, 10.180.2.1:80', false),
          flow('pod to external IP hits both endpoints, masqueraded', '10.0.0.2', '192.168.99.11', 80, '10.180.0.1:80, 10.180.2.1:80', true),
          flow('external to external IP hits both endpoints, masqueraded', TEST_EXTERNAL_CLIENT, '192.168.99.11', 80, '10.180.0.1:80, 10.180.2.1:80', true),
          flow('pod to LB IP hits both endpoints, masqueraded', '10.0.0.2', '1.2.3.4', 80, '10.180.0.1:80, 10.180.2.1:80', true),
          flow('external to LB IP hits both endpoints, masqueraded', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, '10.180.0.1:80, 10.180.2.1:80', true),
          flow('pod to NodePort hits both endpoints, masqueraded', '10.0.0.2', TEST_NODE_IP, 3001, '10.180.0.1:80, 10.180.2.1:80', true),
          flow('external to NodePort hits both endpoints, masqueraded', TEST_EXTERNAL_CLIENT, TEST_NODE_IP, 3001, '10.180.0.1:80, 10.180.2.1:80', true),
        ],
      },
    ],
  },
  internalTrafficPolicyCase('internalTrafficPolicy is cluster', 'cluster', 'one-local', [
    flow('pod to ClusterIP hits all endpoints', '10.0.0.2', '172.30.1.1', 80, '10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80', false),
  ]),
  internalTrafficPolicyCase('internalTrafficPolicy is local and there is one local endpoint', 'local', 'one-local', [
    flow('pod to ClusterIP hits only local endpoint', '10.0.0.2', '172.30.1.1', 80, '10.0.1.1:80', false),
  ]),
  internalTrafficPolicyCase('internalTrafficPolicy is local and there are multiple local endpoints', 'local', 'two-local', [
    flow('pod to ClusterIP hits all local endpoints', '10.0.0.2', '172.30.1.1', 80, '10.0.1.1:80, 10.0.1.2:80', false),
  ]),
  internalTrafficPolicyCase('internalTrafficPolicy is local and there are no local endpoints', 'local', 'no-local', [
    flow('no endpoints', '10.0.0.2', '172.30.1.1', 80, 'DROP'),
  ]),
  terminatingCase('local', 'ready endpoints exist', [
    flow('pod to clusterIP', '10.0.0.2', '172.30.1.1', 80, '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80', false),
    flow('external to LB', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, '10.0.1.1:80, 10.0.1.2:80', false),
  ]),
  terminatingCase('local', 'only terminating endpoints exist', [
    flow('pod to clusterIP', '10.0.0.2', '172.30.1.1', 80, '10.0.1.5:80', false),
    flow('external to LB', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, '10.0.1.2:80, 10.0.1.3:80', false),
  ]),
  terminatingCase('local', 'terminating endpoints on remote node', [
    flow('pod to clusterIP', '10.0.0.2', '172.30.1.1', 80, '10.0.1.5:80'),
    flow('external to LB, no locally-usable endpoints', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, 'DROP'),
  ]),
  terminatingCase('local', 'no usable endpoints on any node', [
    flow('pod to clusterIP, no usable endpoints', '10.0.0.2', '172.30.1.1', 80, 'REJECT'),
    flow('external to LB, no usable endpoints', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, 'REJECT'),
  ]),
  terminatingCase('cluster', 'ready endpoints exist', [
    flow('pod to clusterIP', '10.0.0.2', '172.30.1.1', 80, '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80', false),
    flow('external to LB', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80', true),
  ]),
  terminatingCase('cluster', 'only terminating endpoints exist', [
    flow('pod to clusterIP', '10.0.0.2', '172.30.1.1', 80, '10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80', false),
    flow('external to LB', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, '10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80', true),
  ]),
  terminatingCase('cluster', 'terminating endpoints on remote node', [
    flow('pod to clusterIP', '10.0.0.2', '172.30.1.1', 80, '10.0.1.5:80', false),
    flow('external to LB', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, '10.0.1.5:80', true),
  ]),
  terminatingCase('cluster', 'no usable endpoints on any node', [
    flow('pod to clusterIP', '10.0.0.2', '172.30.1.1', 80, 'REJECT'),
    flow('external to LB', TEST_EXTERNAL_CLIENT, '1.2.3.4', 80, 'REJECT'),
  ]),
  masqueradeCase('base', false, true, {}),
  masqueradeCase('no LocalTrafficDetector', false, false, {
    'node to ClusterIP': { masq: false },
    'node to ClusterIP with eTP:Local': { masq: false },
    'node to ClusterIP with iTP:Local': { masq: false },
    'external to ClusterIP': { masq: false },
    'external to ClusterIP with eTP:Local': { masq: false },
    'external to ClusterIP with iTP:Local': { masq: false },
    'pod to NodePort with eTP:Local': { output: '10.180.0.2:80' },
    'pod to LB with eTP:Local': { output: '10.180.0.2:80' },
  }),
  masqueradeCase('masqueradeAll', true, true, {
    'pod to ClusterIP': { masq: true },
    'pod to ClusterIP with eTP:Local': { masq: true },
    'pod to ClusterIP with iTP:Local': { masq: true },
  }),
  masqueradeCase('masqueradeAll, no LocalTrafficDetector', true, false, {
    'pod to ClusterIP': { masq: true },
    'pod to ClusterIP with eTP:Local': { masq: true },
    'pod to ClusterIP with iTP:Local': { masq: true },
    'pod to NodePort with eTP:Local': { output: '10.180.0.2:80' },
    'pod to LB with eTP:Local': { output: '10.180.0.2:80' },
  }),
];
