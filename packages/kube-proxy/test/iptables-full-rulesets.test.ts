/**
 * Upstream's full-ruleset and rule-level tests of the iptables proxier, re-expressed on knet.
 *
 * Source: kubernetes pkg/proxy/iptables/proxier_test.go (the v1.33-era copy described in
 * /work/shared/facts/kube-proxy.md section 0). Rendered payloads are compared with upstream's
 * expected text after upstream's own normalisation (sortIPTablesRules over
 * pkg/util/iptables/testing/parse.go), re-implemented in ./iptables-dump.ts.
 *
 * upstream test                          → knet test (describe › it)
 * TestParseIPTablesData / TestSortIPTablesRules / TestCheckIPTablesRuleJumps
 *                                        → 'upstream normalisation' (the helpers themselves)
 * TestOverallIPTablesRules               → 'renderIptables' › 'TestOverallIPTablesRules'
 * TestBadIPs                             → 'renderIptables' › 'TestBadIPs'
 * TestNodePorts (KUBE-FIREWALL check)    → 'renderIptables' › 'TestNodePorts: KUBE-FIREWALL …'
 * TestDropInvalidRule                    → 'renderIptables' › 'TestDropInvalidRule …'
 * TestMasqueradeRule                     → 'renderIptables' › 'TestMasqueradeRule …'
 * TestLoadBalancerIngressRouteTypeProxy  → 'renderIptables' › 'TestLoadBalancerIngressRouteTypeProxy …'
 * TestProxierMetricsIPTablesTotalRules   → 'createIptablesProxier' › 'TestProxierMetricsIPTablesTotalRules'
 * TestSyncProxyRulesRepeated             → 'createIptablesProxier' › 'TestSyncProxyRulesRepeated'
 * TestSyncProxyRulesLargeClusterMode     → 'createIptablesProxier' › 'TestSyncProxyRulesLargeClusterMode'
 * TestNoEndpointsMetric                  → 'createIptablesProxier' › 'TestNoEndpointsMetric …'
 * TestHealthCheckNodePort (rule removal) → 'createIptablesProxier' › 'TestHealthCheckNodePort: …'
 * TestComputeProbability                 → src/iptables/compute-probability.test.ts
 * TestBuildServiceMap*                   → src/proxy/service-port-info.test.ts
 * TestUpdateEndpointsMap, TestHealthCheckNodePortWhenTerminating
 *                                        → src/proxy/endpoint-info.test.ts
 * (pkg/proxy/topology_test.go) TestCategorizeEndpoints → src/proxy/categorize-endpoints.test.ts
 * Every runPacketFlowTests case (TestTracePacket, TestNoEndpointsReject, TestClusterIPGeneral,
 * TestLoadBalancer, TestNodePorts, TestHealthCheckNodePort, TestExternalTrafficPolicyLocal,
 * TestExternalTrafficPolicyCluster, TestInternalTrafficPolicy,
 * TestTerminatingEndpointsTrafficPolicyLocal/Cluster, TestInternalExternalMasquerade)
 *                                        → data in ./packet-flow-cases.ts, for the netfilter engine
 */
import { buildClusterState, loadManifests } from '@knet/core';
import type { ClusterState } from '@knet/core';
import { describe, expect, it } from 'vitest';
import { createIptablesProxier, renderIptables } from '../src/index.js';
import type { ProxyInput } from '../src/index.js';
import {
  FakeIptables,
  assertIptablesRulesEqual,
  chainRules,
  checkIptablesRuleJumps,
  countRules,
  dedent,
  parseIptablesDump,
  sortIptablesRules,
} from './iptables-dump.js';
import { fakeProxierOptions, loadFixtures } from './upstream-fake.js';

describe('upstream normalisation', () => {
  // TestSortIPTablesRules "basic test using each match type", verbatim.
  it('sortIptablesRules: basic test using each match type', () => {
    const input = dedent(`
      *filter
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FIREWALL - [0:0]
      :KUBE-FORWARD - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-PROXY-FIREWALL - [0:0]
      -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
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
      :KUBE-SERVICES - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-POSTROUTING - [0:0]
      :KUBE-MARK-MASQ - [0:0]
      :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
      :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
      :KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-SVL-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-FW-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
      :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
      :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
      :KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
      -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
      -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
      -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
      -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment ns1/svc1:p80 -j KUBE-SEP-SXIVWICOYRO3J4NJ
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-GNZBNJ2PO5MGZ6GT
      -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment ns2/svc2:p80 -j KUBE-SEP-RS4RBKLTHTF2IUXJ
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-FW-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-FW-GNZBNJ2PO5MGZ6GT -m comment --comment "other traffic to s2/svc2:p80 will be dropped by KUBE-PROXY-FIREWALL"
      -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT
      -A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 has no local endpoints" -j KUBE-MARK-DROP
      -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3002 -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3002 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment ns3/svc3:p80 -j KUBE-SEP-OYPFS5VJICHGATKP
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment ns4/svc4:p80 -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment ns4/svc4:p80 -j KUBE-SEP-C6EBXVWJJZMIWKLZ
      -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
      -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
      -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
      -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
      -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
      COMMIT
      `);
    const output = dedent(`
      *filter
      :KUBE-NODEPORTS - [0:0]
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FIREWALL - [0:0]
      :KUBE-FORWARD - [0:0]
      :KUBE-PROXY-FIREWALL - [0:0]
      -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
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
      :KUBE-NODEPORTS - [0:0]
      :KUBE-SERVICES - [0:0]
      :KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-FW-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-MARK-MASQ - [0:0]
      :KUBE-POSTROUTING - [0:0]
      :KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
      :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
      :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
      :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
      :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
      :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
      :KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
      :KUBE-SVL-GNZBNJ2PO5MGZ6GT - [0:0]
      -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3002 -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
      -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT
      -A KUBE-FW-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-FW-GNZBNJ2PO5MGZ6GT -m comment --comment "other traffic to s2/svc2:p80 will be dropped by KUBE-PROXY-FIREWALL"
      -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
      -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
      -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
      -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
      -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
      -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
      -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
      -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment ns4/svc4:p80 -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment ns4/svc4:p80 -j KUBE-SEP-C6EBXVWJJZMIWKLZ
      -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment ns2/svc2:p80 -j KUBE-SEP-RS4RBKLTHTF2IUXJ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3002 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment ns3/svc3:p80 -j KUBE-SEP-OYPFS5VJICHGATKP
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment ns1/svc1:p80 -j KUBE-SEP-SXIVWICOYRO3J4NJ
      -A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 has no local endpoints" -j KUBE-MARK-DROP
      COMMIT
      `);
    expect(sortIptablesRules(input)).toBe(output.replace(/^\n/, ''));
  });

  // TestSortIPTablesRules "correctly match same service name in different styles of comments".
  it('sortIptablesRules: same service name in different styles of comments', () => {
    const input = dedent(`
      *filter
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1
      -A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2
      -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" svc1 line 1
      -A KUBE-SERVICES -m comment --comment ns1/svc1 svc1 line 2
      -A KUBE-SERVICES -m comment --comment "ns1/svc1 blah" svc1 line 3
      -A KUBE-SERVICES -m comment --comment ns4/svc4 svc4 line 1
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" svc4 line 2
      -A KUBE-SERVICES -m comment --comment "ns4/svc4 blah" svc4 line 3
      -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" svc3 line 1
      -A KUBE-SERVICES -m comment --comment "ns3/svc3 blah" svc3 line 2
      -A KUBE-SERVICES -m comment --comment ns3/svc3 svc3 line 3
      COMMIT
      `);
    const output = dedent(`
      *filter
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" svc1 line 1
      -A KUBE-SERVICES -m comment --comment ns1/svc1 svc1 line 2
      -A KUBE-SERVICES -m comment --comment "ns1/svc1 blah" svc1 line 3
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1
      -A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2
      -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3
      -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" svc3 line 1
      -A KUBE-SERVICES -m comment --comment "ns3/svc3 blah" svc3 line 2
      -A KUBE-SERVICES -m comment --comment ns3/svc3 svc3 line 3
      -A KUBE-SERVICES -m comment --comment ns4/svc4 svc4 line 1
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" svc4 line 2
      -A KUBE-SERVICES -m comment --comment "ns4/svc4 blah" svc4 line 3
      COMMIT
      `);
    expect(sortIptablesRules(input)).toBe(output.replace(/^\n/, ''));
  });

  // TestSortIPTablesRules "unexpected junk lines are preserved".
  it('sortIptablesRules: unexpected junk lines are preserved', () => {
    const input = dedent(`
      *filter
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
      :KUBE-AAAAA - [0:0]
      :KUBE-ZZZZZ - [0:0]
      :WHY-IS-THIS-CHAIN-HERE - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-ZZZZZ -m comment --comment "mystery chain number 1"
      -A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2
      -A WHY-IS-THIS-CHAIN-HERE -j ACCEPT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3
      -A KUBE-AAAAA -m comment --comment "mystery chain number 2"
      COMMIT
      `);
    const output = dedent(`
      *filter
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-AAAAA - [0:0]
      :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
      :KUBE-ZZZZZ - [0:0]
      :WHY-IS-THIS-CHAIN-HERE - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1
      -A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2
      -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3
      -A KUBE-AAAAA -m comment --comment "mystery chain number 2"
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-ZZZZZ -m comment --comment "mystery chain number 1"
      -A WHY-IS-THIS-CHAIN-HERE -j ACCEPT
      COMMIT
      `);
    expect(sortIptablesRules(input)).toBe(output.replace(/^\n/, ''));
  });

  it('sortIptablesRules prints -X deletions after the rules; rules may not follow a -X (parse.go)', () => {
    const ok = '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-B - [0:0]\n:KUBE-SVC-A - [0:0]\n-X KUBE-SVC-B\n-X KUBE-SVC-A\n-A KUBE-SERVICES -m comment --comment "ns1/a:p cluster IP" -j KUBE-MARK-MASQ\nCOMMIT\n';
    expect(sortIptablesRules(ok)).toBe(
      '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-A - [0:0]\n:KUBE-SVC-B - [0:0]\n-A KUBE-SERVICES -m comment --comment "ns1/a:p cluster IP" -j KUBE-MARK-MASQ\n-X KUBE-SVC-A\n-X KUBE-SVC-B\nCOMMIT\n',
    );
    expect(() => sortIptablesRules('*nat\n:KUBE-SVC-A - [0:0]\n-X KUBE-SVC-A\n-A KUBE-SVC-A -j ACCEPT\nCOMMIT\n')).toThrow('cannot add rules to deleted chain');
  });

  // TestCheckIPTablesRuleJumps
  it.each([
    ['valid', ':KUBE-MARK-MASQ - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]\n-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 10.20.30.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O\n-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 10.20.30.41 --dport 80 ! -s 10.0.0.0/24 -j KUBE-MARK-MASQ\n', ''],
    ["can't jump to chain that wasn't created", ':KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O\n', 'some chains in nat are used but were not created: KUBE-SVC-XPGD46QRK7WJZT7O'],
    ["can't jump to chain that has no rules", ':KUBE-SERVICES - [0:0]\n:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]\n-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O\n', 'some chains in nat are jumped to but have no rules: KUBE-SVC-XPGD46QRK7WJZT7O'],
    ["can't add rules to a chain that wasn't created", ':KUBE-MARK-MASQ - [0:0]\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" ...\n-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n', 'some chains in nat are used but were not created: KUBE-SVC-XPGD46QRK7WJZT7O'],
    ["can't create chain and then not use it", ':KUBE-MARK-MASQ - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]\n-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" ...\n', 'some chains in nat are created but not used: KUBE-SVC-XPGD46QRK7WJZT7O'],
  ])('checkIptablesRuleJumps: %s', (_name, nat, error) => {
    const data = `*filter\nCOMMIT\n*nat\n${nat}COMMIT\n`;
    if (error === '') expect(() => checkIptablesRuleJumps(data)).not.toThrow();
    else expect(() => checkIptablesRuleJumps(data)).toThrow(error);
  });

  // TestParseIPTablesData's error cases, as parse.go reports them
  it.each([
    ['bad start line', '*filter\nCOMMIT\n:KUBE-SERVICES - [0:0]\nCOMMIT\n', 'table 2 starts with ":KUBE-SERVICES - [0:0]"'],
    ['no COMMIT', '*filter\n:KUBE-SERVICES - [0:0]\n', 'no COMMIT line'],
    ['a rule in an undeclared chain', '*nat\n-A KUBE-SVC-X -j ACCEPT\nCOMMIT\n', 'no such chain'],
    ['-X after rules', '*nat\n:KUBE-SVC-X - [0:0]\n-A KUBE-SVC-X -j ACCEPT\n-X KUBE-SVC-X\nCOMMIT\n', 'cannot delete chain'],
  ])('parseIptablesDump rejects %s', (_name, text, message) => {
    expect(() => parseIptablesDump(text)).toThrow(message);
  });
});

const OVERALL_EXPECTED = dedent(`
  *filter
  :KUBE-NODEPORTS - [0:0]
  :KUBE-SERVICES - [0:0]
  :KUBE-EXTERNAL-SERVICES - [0:0]
  :KUBE-FIREWALL - [0:0]
  :KUBE-FORWARD - [0:0]
  :KUBE-PROXY-FIREWALL - [0:0]
  -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
  -A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
  -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
  -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
  -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
  -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
  -A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  -A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
  COMMIT
  *nat
  :KUBE-NODEPORTS - [0:0]
  :KUBE-SERVICES - [0:0]
  :KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
  :KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
  :KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
  :KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
  :KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
  :KUBE-MARK-MASQ - [0:0]
  :KUBE-POSTROUTING - [0:0]
  :KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
  :KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
  :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
  :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
  :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
  :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
  :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
  :KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
  :KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
  :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
  :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
  -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
  -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
  -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3003 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-X27LE4BHSL4DOUIK
  -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
  -A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3002 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-NUKIZ6OKUXPJNT4C
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
  -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
  -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
  -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
  -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
  -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
  -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
  -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
  -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
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
  -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN
  -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
  -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
  -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
  -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
  -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
  COMMIT
  `);

const BAD_IPS_EXPECTED = dedent(`
  *filter
  :KUBE-NODEPORTS - [0:0]
  :KUBE-SERVICES - [0:0]
  :KUBE-EXTERNAL-SERVICES - [0:0]
  :KUBE-FIREWALL - [0:0]
  :KUBE-FORWARD - [0:0]
  :KUBE-PROXY-FIREWALL - [0:0]
  -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
  -A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  -A KUBE-PROXY-FIREWALL -m comment --comment "ns1/svc1:p80 traffic not accepted by KUBE-FW-XPGD46QRK7WJZT7O" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
  COMMIT
  *nat
  :KUBE-NODEPORTS - [0:0]
  :KUBE-SERVICES - [0:0]
  :KUBE-EXT-XPGD46QRK7WJZT7O - [0:0]
  :KUBE-FW-XPGD46QRK7WJZT7O - [0:0]
  :KUBE-MARK-MASQ - [0:0]
  :KUBE-POSTROUTING - [0:0]
  :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
  :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
  -A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-XPGD46QRK7WJZT7O
  -A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-XPGD46QRK7WJZT7O
  -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
  -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-XPGD46QRK7WJZT7O
  -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-XPGD46QRK7WJZT7O
  -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
  -A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "masquerade traffic for ns1/svc1:p80 external destinations" -j KUBE-MARK-MASQ
  -A KUBE-EXT-XPGD46QRK7WJZT7O -j KUBE-SVC-XPGD46QRK7WJZT7O
  -A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-XPGD46QRK7WJZT7O
  -A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "other traffic to ns1/svc1:p80 will be dropped by KUBE-PROXY-FIREWALL"
  -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
  -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
  -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
  -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
  -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
  -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
  -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
  -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
  COMMIT
  `);

/** A minimal one-port Service + EndpointSlice input (for the tests upstream writes inline). */
function onePortInput(extra: Partial<ProxyInput['services'][number]> = {}): ProxyInput {
  return {
    services: [{ namespace: 'ns1', name: 'svc1', type: 'LoadBalancer', clusterIP: '172.30.0.41', ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3001 }], ...extra }],
    endpointSlices: [
      { namespace: 'ns1', name: 'svc1-1', serviceName: 'svc1', addressType: 'IPv4', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['10.180.0.1'] }] },
    ],
  };
}

describe('renderIptables', () => {
  it('TestOverallIPTablesRules: manifests give upstream\'s expected ruleset', () => {
    const state = loadFixtures('overall-iptables-rules.yaml');
    const { payload, stats } = renderIptables(state, fakeProxierOptions());
    assertIptablesRulesEqual(true, OVERALL_EXPECTED, payload);
    // nNatRules (the metric) == countRules(nat) of the payload
    expect(stats.natRulesTotal).toBe(countRules('nat', payload));
    expect(stats.natRules).toBe(countRules('nat', payload));
    expect(stats.filterRules).toBe(countRules('filter', payload));
  });

  it('TestOverallIPTablesRules: the raw payload has upstream\'s table and chain-declaration layout', () => {
    const { payload } = renderIptables(loadFixtures('overall-iptables-rules.yaml'), fakeProxierOptions());
    const lines = payload.split('\n');
    expect(lines.slice(0, 7)).toEqual([
      '*filter',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-EXTERNAL-SERVICES - [0:0]',
      ':KUBE-FORWARD - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-PROXY-FIREWALL - [0:0]',
      ':KUBE-FIREWALL - [0:0]',
    ]);
    const nat = lines.indexOf('*nat');
    expect(lines[nat - 1]).toBe('COMMIT');
    expect(lines.slice(nat, nat + 5)).toEqual(['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-NODEPORTS - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-MARK-MASQ - [0:0]']);
    // nat rules start with KUBE-POSTROUTING and KUBE-MARK-MASQ ...
    const firstRule = lines.findIndex((l, i) => i > nat && l.startsWith('-A'));
    expect(lines.slice(firstRule, firstRule + 4).map((l) => l.split(' ')[1])).toEqual(['KUBE-POSTROUTING', 'KUBE-POSTROUTING', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']);
    // ... and end with the nodeports jump.
    expect(lines.slice(-3)).toEqual([
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      'COMMIT',
      '',
    ]);
    // The filter rules end with KUBE-FORWARD.
    expect(lines[nat - 2]).toBe('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  });

  it('TestBadIPs: sloppy addresses are rewritten (direct input: core rejects leading zeros)', () => {
    const input: ProxyInput = {
      services: [
        {
          namespace: 'ns1',
          name: 'svc1',
          type: 'LoadBalancer',
          clusterIP: '172.30.0.041',
          ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3001 }],
          loadBalancerIngress: [{ ip: '1.2.3.004' }],
          externalIPs: ['192.168.099.022'],
          loadBalancerSourceRanges: ['203.0.113.000/025'],
        },
      ],
      endpointSlices: [
        { namespace: 'ns1', name: 'svc1-1', serviceName: 'svc1', addressType: 'IPv4', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['10.180.00.001'] }] },
      ],
    };
    const { payload } = renderIptables(input, fakeProxierOptions());
    assertIptablesRulesEqual(true, BAD_IPS_EXPECTED, payload);
  });

  // TestNodePorts checks KUBE-FIREWALL by hand (the tracer has no conntrack); its flows are in packet-flow-cases.ts.
  it.each<[string, 'IPv4' | 'IPv6', boolean, readonly string[] | undefined, boolean]>([
    ['ipv4, localhost-nodeports enabled', 'IPv4', true, undefined, true],
    ['ipv4, localhost-nodeports disabled', 'IPv4', false, undefined, false],
    ['ipv4, localhost-nodeports disabled, localhost in nodeport-addresses', 'IPv4', false, ['192.168.0.0/24', '127.0.0.1/32'], false],
    ['ipv4, localhost-nodeports enabled, multiple nodeport-addresses', 'IPv4', false, ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], false],
    ['ipv6, localhost-nodeports enabled', 'IPv6', true, undefined, false],
    ['ipv6, localhost-nodeports disabled', 'IPv6', false, undefined, false],
    ['ipv6, localhost-nodeports disabled, multiple nodeport-addresses', 'IPv6', false, ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], false],
  ])('TestNodePorts: KUBE-FIREWALL for %s', (_name, family, localhostNodePorts, nodePortAddresses, expectFirewall) => {
    const v4 = family === 'IPv4';
    const input: ProxyInput = {
      services: [{ namespace: 'ns1', name: 'svc1', type: 'NodePort', clusterIP: v4 ? '172.30.0.41' : 'fd00:172:30::41', ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3001 }] }],
      endpointSlices: [
        {
          namespace: 'ns1',
          name: 'svc1-1',
          serviceName: 'svc1',
          addressType: family,
          ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
          endpoints: [{ addresses: [v4 ? '10.180.0.1' : 'fd00:10:180::1'] }, { addresses: [v4 ? '10.180.2.1' : 'fd00:10:180::2:1'], nodeName: 'test-node' }],
        },
      ],
    };
    const { payload } = renderIptables(input, {
      ...fakeProxierOptions(family),
      localhostNodePorts,
      ...(nodePortAddresses === undefined ? {} : { nodePortAddresses }),
    });
    expect(chainRules(payload, 'filter', 'KUBE-FIREWALL')).toBe(
      expectFirewall
        ? '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n'
        : '',
    );
  });

  it.each<[string, boolean | { ctStateInvalidDroppedPkts?: boolean }, boolean, string]>([
    ['tcpLiberal is false and nfacctEnsured is false', {}, false, '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n'],
    ['tcpLiberal is false and nfacctEnsured is true', { ctStateInvalidDroppedPkts: true }, false, '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP\n'],
    ['tcpLiberal is true and nfacctEnsured is false', {}, true, ''],
  ])('TestDropInvalidRule: %s', (_name, nfacct, conntrackTCPLiberal, dropRule) => {
    const { payload } = renderIptables({ services: [], endpointSlices: [] }, { ...fakeProxierOptions(), nfacct, conntrackTCPLiberal });
    expect(chainRules(payload, 'filter', 'KUBE-FORWARD')).toBe(
      dropRule +
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT\n' +
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n',
    );
  });

  it.each([
    [false, ''],
    [true, ' --random-fully'],
  ])('TestMasqueradeRule: randomFully %s', (randomFully, suffix) => {
    const { payload } = renderIptables({ services: [], endpointSlices: [] }, { ...fakeProxierOptions(), randomFully });
    expect(chainRules(payload, 'nat', 'KUBE-POSTROUTING')).toBe(
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n' +
        '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n' +
        `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${suffix}\n`,
    );
  });

  it('uses the real proxier\'s mark text (%#08x) by default', () => {
    const { payload } = renderIptables({ services: [], endpointSlices: [] }, { nodeName: 'test-node' });
    expect(chainRules(payload, 'nat', 'KUBE-MARK-MASQ')).toBe('-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000\n');
  });

  it.each<[string, boolean, string, string, 'VIP' | 'Proxy' | undefined, boolean]>([
    ['LoadBalancerIPMode disabled, ipMode Proxy', false, '10.20.30.41', '1.2.3.4', 'Proxy', true],
    ['LoadBalancerIPMode disabled, ipMode VIP', false, '10.20.30.42', '1.2.3.5', 'VIP', true],
    ['LoadBalancerIPMode disabled, ipMode nil', false, '10.20.30.43', '1.2.3.6', undefined, true],
    ['LoadBalancerIPMode enabled, ipMode Proxy', true, '10.20.30.41', '1.2.3.4', 'Proxy', false],
    ['LoadBalancerIPMode enabled, ipMode VIP', true, '10.20.30.42', '1.2.3.5', 'VIP', true],
    ['LoadBalancerIPMode enabled, ipMode nil', true, '10.20.30.43', '1.2.3.6', undefined, true],
  ])('TestLoadBalancerIngressRouteTypeProxy: %s', (_name, gate, svcIP, lbIP, ipMode, expectedRule) => {
    const input = onePortInput({ clusterIP: svcIP, loadBalancerIngress: [{ ip: lbIP, ...(ipMode === undefined ? {} : { ipMode }) }] });
    const { payload } = renderIptables(input, { ...fakeProxierOptions(), featureGates: { loadBalancerIPMode: gate } });
    const dump = parseIptablesDump(payload);
    const rules = dump.tables.find((t) => t.name === 'nat')?.chains.find((c) => c.name === 'KUBE-SERVICES')?.rules ?? [];
    expect(rules.some((r) => r.raw.includes(` -d ${lbIP} `))).toBe(expectedRule);
  });

  it('TestLoadBalancerIngressRouteTypeProxy via manifests: core drops ipMode Proxy, so no LB rule', () => {
    const state = loadInline(`
apiVersion: v1
kind: Service
metadata: {namespace: ns1, name: svc1}
spec:
  type: LoadBalancer
  clusterIP: 172.30.0.41
  ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]
status:
  loadBalancer:
    ingress: [{ip: 1.2.3.4, ipMode: Proxy}, {ip: 1.2.3.5, ipMode: VIP}]
`);
    const { payload } = renderIptables(state, fakeProxierOptions());
    expect(payload).not.toContain('-d 1.2.3.4 ');
    expect(payload).toContain('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints"');
    expect(payload).toContain('-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 1.2.3.5 --dport 80 -j REJECT');
  });
});

function loadInline(yaml: string): ClusterState {
  return buildClusterState(
    loadManifests([
      { file: 'knet-cluster.yaml', text: 'apiVersion: knet.dev/v1alpha1\nkind: KnetCluster\nmetadata: {name: t}\nspec: {clusterCIDR: 10.0.0.0/8, serviceCIDR: 172.30.0.0/16}\n' },
      { file: 'inline.yaml', text: yaml },
    ]),
  );
}

const REPEATED_FILTER = dedent(`
  *filter
  :KUBE-NODEPORTS - [0:0]
  :KUBE-SERVICES - [0:0]
  :KUBE-EXTERNAL-SERVICES - [0:0]
  :KUBE-FIREWALL - [0:0]
  :KUBE-FORWARD - [0:0]
  :KUBE-PROXY-FIREWALL - [0:0]
  -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
  -A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  COMMIT
  `).replace(/^\n/, '');

const NAT_FIXED_RULES = dedent(`
  -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
  -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
  -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
  -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
  `).replace(/^\n/, '');

const NODEPORTS_LAST =
  '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n';

/** Upstream's expected text for a TestSyncProxyRulesRepeated step, from its parts. */
function repeatedExpected(natChains: string, services: string, natRules: string, deletions = ''): string {
  return (
    REPEATED_FILTER +
    '*nat\n:KUBE-NODEPORTS - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n' +
    dedent(natChains).replace(/^\n/, '') +
    dedent(services).replace(/^\n/, '') +
    NODEPORTS_LAST +
    NAT_FIXED_RULES +
    dedent(natRules).replace(/^\n/, '') +
    dedent(deletions).replace(/^\n/, '') +
    'COMMIT\n'
  );
}

const SVC1_CIP = '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O\n';
const SVC2_CIP = '-A KUBE-SERVICES -m comment --comment "ns2/svc2:p8080 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 8080 -j KUBE-SVC-2VJB64SDSIJUP5T6\n';
const SVC3_CIP = '-A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK\n';
const SVC4_CIP = '-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK\n';

function countEndpointsAndComments(data: string, matchEndpoint: string): [string, number, number] {
  let endpoints = 0;
  let comments = 0;
  let matched = '';
  for (const line of data.split('\n')) {
    if (line.startsWith('-A KUBE-SEP-') && line.includes('-j DNAT')) {
      endpoints++;
      if (line.includes('--comment')) comments++;
      if (line.includes(matchEndpoint)) matched = line;
    }
  }
  return [matched, endpoints, comments];
}

function largeClusterSlice(ns: string, svc: string, portName: string, port: number, addresses: readonly string[]): string {
  return (
    `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  namespace: ${ns}\n  name: ${svc}-1\n  labels: {kubernetes.io/service-name: ${svc}}\n` +
    `addressType: IPv4\nendpoints:\n${addresses.map((a) => `- addresses: [${a}]\n`).join('')}ports:\n- {name: ${portName}, port: ${port}, protocol: TCP}\n`
  );
}

function clusterIPService(ns: string, name: string, ip: string, portName: string, port: number): string {
  return `apiVersion: v1\nkind: Service\nmetadata: {namespace: ${ns}, name: ${name}}\nspec:\n  type: ClusterIP\n  clusterIP: ${ip}\n  ports:\n  - {name: ${portName}, port: ${port}, protocol: TCP}\n`;
}

describe('createIptablesProxier', () => {
  it('TestSyncProxyRulesRepeated', () => {
    const ipt = new FakeIptables();
    const proxier = createIptablesProxier({
      ...fakeProxierOptions(),
      restore: (payload) => ipt.restoreAll(payload),
      listNatChains: () => ipt.chains('nat'),
    });
    const step = (...files: string[]): ReturnType<typeof proxier.sync> => proxier.sync(loadFixtures(...files.map((f) => `sync-repeated/${f}.yaml`)));
    let rulesTotal = 0;
    const checkCounts = (r: ReturnType<typeof proxier.sync>, expected: string): void => {
      expect(r.ok).toBe(true);
      // rulesSynced (countRules of the expected nat table) == the "last sync" metric
      expect(r.stats.natRules).toBe(countRules('nat', expected));
      expect(r.stats.natRulesTotal).toBe(rulesTotal);
    };

    // Initial state: full sync.
    let r = step('svc1', 'svc2');
    let expected = repeatedExpected(
      `
      :KUBE-SEP-SNQ3ZNILQDEJNDQO - [0:0]
      :KUBE-SEP-UHEGFW77JX3KXTOV - [0:0]
      :KUBE-SVC-2VJB64SDSIJUP5T6 - [0:0]
      :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
      `,
      SVC1_CIP + SVC2_CIP,
      `
      -A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80
      -A KUBE-SEP-UHEGFW77JX3KXTOV -m comment --comment ns2/svc2:p8080 -s 10.0.2.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-UHEGFW77JX3KXTOV -m comment --comment ns2/svc2:p8080 -m tcp -p tcp -j DNAT --to-destination 10.0.2.1:8080
      -A KUBE-SVC-2VJB64SDSIJUP5T6 -m comment --comment "ns2/svc2:p8080 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 8080 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-2VJB64SDSIJUP5T6 -m comment --comment "ns2/svc2:p8080 -> 10.0.2.1:8080" -j KUBE-SEP-UHEGFW77JX3KXTOV
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.0.1.1:80" -j KUBE-SEP-SNQ3ZNILQDEJNDQO
      `,
    );
    expect(r.full).toBe(true);
    assertIptablesRulesEqual(true, expected, r.payload);
    rulesTotal = countRules('nat', expected);
    checkCounts(r, expected);

    // Add a new service and its endpoints: only its SVC and SEP chains are written.
    r = step('svc1', 'svc2', 'svc3', 'svc3-slice-v1');
    expected = repeatedExpected(
      `
      :KUBE-SEP-BSWRHOQ77KEXZLNL - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      `,
      SVC1_CIP + SVC2_CIP + SVC3_CIP,
      `
      -A KUBE-SEP-BSWRHOQ77KEXZLNL -m comment --comment ns3/svc3:p80 -s 10.0.3.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-BSWRHOQ77KEXZLNL -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.1:80
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.1:80" -j KUBE-SEP-BSWRHOQ77KEXZLNL
      `,
    );
    expect(r.full).toBe(false);
    assertIptablesRulesEqual(false, expected, r.payload);
    rulesTotal += 5;
    checkCounts(r, expected);

    // Delete a service: its chains are deleted, the others are not rewritten.
    r = step('svc1', 'svc3', 'svc3-slice-v1');
    expected = repeatedExpected(
      `
      :KUBE-SEP-UHEGFW77JX3KXTOV - [0:0]
      :KUBE-SVC-2VJB64SDSIJUP5T6 - [0:0]
      `,
      SVC1_CIP + SVC3_CIP,
      '',
      `
      -X KUBE-SEP-UHEGFW77JX3KXTOV
      -X KUBE-SVC-2VJB64SDSIJUP5T6
      `,
    );
    assertIptablesRulesEqual(false, expected, r.payload);
    rulesTotal -= 5;
    checkCounts(r, expected);
    expect(r.stats.chainsDeleted).toBe(2);

    // Add a service without endpoints: only its REJECT rule.
    r = step('svc1', 'svc3', 'svc3-slice-v1', 'svc4');
    expected = repeatedExpected('', SVC1_CIP + SVC3_CIP, '').replace(
      '-A KUBE-FIREWALL',
      '-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j REJECT\n-A KUBE-FIREWALL',
    );
    assertIptablesRulesEqual(false, expected, r.payload);
    checkCounts(r, expected);

    // Then its endpoints: its chains are written.
    r = step('svc1', 'svc3', 'svc3-slice-v1', 'svc4', 'svc4-slice');
    expected = repeatedExpected(
      `
      :KUBE-SEP-AYCN5HPXMIRJNJXU - [0:0]
      :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
      `,
      SVC1_CIP + SVC3_CIP + SVC4_CIP,
      `
      -A KUBE-SEP-AYCN5HPXMIRJNJXU -m comment --comment ns4/svc4:p80 -s 10.0.4.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-AYCN5HPXMIRJNJXU -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.4.1:80
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.0.4.1:80" -j KUBE-SEP-AYCN5HPXMIRJNJXU
      `,
    );
    assertIptablesRulesEqual(false, expected, r.payload);
    rulesTotal += 5;
    checkCounts(r, expected);

    // Change an endpoint of an existing service: its SVC and SEP chains are rewritten.
    r = step('svc1', 'svc3', 'svc3-slice-v2', 'svc4', 'svc4-slice');
    expected = repeatedExpected(
      `
      :KUBE-SEP-BSWRHOQ77KEXZLNL - [0:0]
      :KUBE-SEP-DKCFIS26GWF2WLWC - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      `,
      SVC1_CIP + SVC3_CIP + SVC4_CIP,
      `
      -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -s 10.0.3.2 -j KUBE-MARK-MASQ
      -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.2:80
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.2:80" -j KUBE-SEP-DKCFIS26GWF2WLWC
      `,
      `
      -X KUBE-SEP-BSWRHOQ77KEXZLNL
      `,
    );
    assertIptablesRulesEqual(false, expected, r.payload);
    checkCounts(r, expected);

    // Add an endpoint to a service: its SVC and SEP chains are rewritten.
    r = step('svc1', 'svc3', 'svc3-slice-v3', 'svc4', 'svc4-slice');
    expected = repeatedExpected(
      `
      :KUBE-SEP-DKCFIS26GWF2WLWC - [0:0]
      :KUBE-SEP-JVVZVJ7BSEPPRNBS - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      `,
      SVC1_CIP + SVC3_CIP + SVC4_CIP,
      `
      -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -s 10.0.3.2 -j KUBE-MARK-MASQ
      -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.2:80
      -A KUBE-SEP-JVVZVJ7BSEPPRNBS -m comment --comment ns3/svc3:p80 -s 10.0.3.3 -j KUBE-MARK-MASQ
      -A KUBE-SEP-JVVZVJ7BSEPPRNBS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.3:80
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.2:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-DKCFIS26GWF2WLWC
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.3:80" -j KUBE-SEP-JVVZVJ7BSEPPRNBS
      `,
    );
    assertIptablesRulesEqual(false, expected, r.payload);
    rulesTotal += 3;
    checkCounts(r, expected);

    // Sync with no new changes: no SVC or SEP chain is rewritten.
    r = step('svc1', 'svc3', 'svc3-slice-v3', 'svc4', 'svc4-slice');
    expected = repeatedExpected('', SVC1_CIP + SVC3_CIP + SVC4_CIP, '');
    assertIptablesRulesEqual(false, expected, r.payload);
    checkCounts(r, expected);

    // A rule jumping from svc3's chain to svc4's endpoint makes deleting svc4 fail in a partial
    // sync (svc3's chain is not rewritten); the proxier then needs a full sync.
    expect(proxier.needFullSync).toBe(false);
    expect(ipt.chainExists('nat', 'KUBE-SEP-AYCN5HPXMIRJNJXU')).toBe(true);
    ipt.appendRule('nat', 'KUBE-SVC-X27LE4BHSL4DOUIK', '-j KUBE-SEP-AYCN5HPXMIRJNJXU');
    r = step('svc1', 'svc3', 'svc3-slice-v3', 'svc4-slice');
    expect(r.ok).toBe(false);
    expect(String(r.error)).toContain('is referenced by existing rules');
    expect(ipt.chainExists('nat', 'KUBE-SEP-AYCN5HPXMIRJNJXU')).toBe(true);
    expect(proxier.needFullSync).toBe(true);

    // The retry is a full sync, which succeeds and deletes svc4.
    r = step('svc1', 'svc3', 'svc3-slice-v3', 'svc4-slice');
    expect(r.full).toBe(true);
    expected = repeatedExpected(
      `
      :KUBE-SEP-AYCN5HPXMIRJNJXU - [0:0]
      :KUBE-SEP-DKCFIS26GWF2WLWC - [0:0]
      :KUBE-SEP-JVVZVJ7BSEPPRNBS - [0:0]
      :KUBE-SEP-SNQ3ZNILQDEJNDQO - [0:0]
      :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
      `,
      SVC1_CIP + SVC3_CIP,
      `
      -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -s 10.0.3.2 -j KUBE-MARK-MASQ
      -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.2:80
      -A KUBE-SEP-JVVZVJ7BSEPPRNBS -m comment --comment ns3/svc3:p80 -s 10.0.3.3 -j KUBE-MARK-MASQ
      -A KUBE-SEP-JVVZVJ7BSEPPRNBS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.3:80
      -A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.2:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-DKCFIS26GWF2WLWC
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.3:80" -j KUBE-SEP-JVVZVJ7BSEPPRNBS
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.0.1.1:80" -j KUBE-SEP-SNQ3ZNILQDEJNDQO
      `,
      `
      -X KUBE-SEP-AYCN5HPXMIRJNJXU
      -X KUBE-SVC-4SW47YFZTEDKD3PK
      `,
    );
    assertIptablesRulesEqual(false, expected, r.payload);
    rulesTotal -= 5;
    checkCounts(r, expected);
    expect(ipt.chainExists('nat', 'KUBE-SEP-AYCN5HPXMIRJNJXU')).toBe(false);
  });

  it('TestSyncProxyRulesRepeated, same objects: unchanged references are not even compared', () => {
    const state = loadFixtures('sync-repeated/svc1.yaml', 'sync-repeated/svc2.yaml');
    const proxier = createIptablesProxier(fakeProxierOptions());
    expect(proxier.sync(state).stats.servicePortsWritten).toBe(2);
    const again = proxier.sync(state);
    expect(again.full).toBe(false);
    expect(again.stats.servicePortsWritten).toBe(0);
    expect(again.payload).not.toContain(':KUBE-SVC-');
  });

  it('TestSyncProxyRulesLargeClusterMode', () => {
    const threshold = 1000;
    const ipt = new FakeIptables();
    const proxier = createIptablesProxier({
      ...fakeProxierOptions(),
      masqueradeAll: true,
      syncPeriodMs: 30_000,
      restore: (payload) => ipt.restoreAll(payload),
      listNatChains: () => ipt.chains('nat'),
    });
    const half = threshold / 2 - 1;
    const addrs = (prefix: string): string[] => Array.from({ length: half }, (_, i) => `${prefix}.${i % 256}.${Math.floor(i / 256)}`);
    const services =
      clusterIPService('ns1', 'svc1', '172.30.0.41', 'p80', 80) +
      '---\n' +
      clusterIPService('ns2', 'svc2', '172.30.0.42', 'p8080', 8080) +
      '---\n' +
      clusterIPService('ns3', 'svc3', '172.30.0.43', 'p8081', 8081);
    const slices =
      largeClusterSlice('ns1', 'svc1', 'p80', 80, addrs('10.0')) + '---\n' + largeClusterSlice('ns2', 'svc2', 'p8080', 8080, addrs('10.1'));
    const svc3Slice = largeClusterSlice('ns3', 'svc3', 'p8081', 8081, ['203.0.113.4', '203.0.113.8', '203.0.113.12']);
    const svc4 = clusterIPService('ns4', 'svc4', '172.30.0.44', 'p8082', 8082);
    const svc4Slice = largeClusterSlice('ns4', 'svc4', 'p8082', 8082, ['10.4.0.1']);

    let r = proxier.sync(loadInline(`${services}---\n${slices}`), { now: 0 });
    let expectedEndpoints = 2 * half;
    let [first, numEndpoints, numComments] = countEndpointsAndComments(r.payload, '10.0.0.0');
    expect(first).toBe('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80');
    expect(numEndpoints).toBe(expectedEndpoints);
    expect(numComments).toBe(numEndpoints);
    expect(r.stats.largeClusterMode).toBe(false);

    // Crossing the threshold in a partial sync only writes svc3, without comments.
    r = proxier.sync(loadInline(`${services}---\n${slices}---\n${svc3Slice}`), { now: 0 });
    [first, numEndpoints, numComments] = countEndpointsAndComments(r.payload, '203.0.113.4');
    expect(first).toBe('-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081');
    expect(numEndpoints).toBe(3);
    expect(numComments).toBe(0);
    expect(r.stats.largeClusterMode).toBe(true);

    // A forced full sync rewrites the older services without comments too.
    proxier.requestFullSync();
    r = proxier.sync(loadInline(`${services}---\n${slices}---\n${svc3Slice}`), { now: 0 });
    expectedEndpoints += 3;
    [first, numEndpoints, numComments] = countEndpointsAndComments(r.payload, '10.0.0.0');
    expect(first).toBe('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80');
    expect(numEndpoints).toBe(expectedEndpoints);
    expect(numComments).toBe(0);

    // A new service syncs alone.
    r = proxier.sync(loadInline(`${services}---\n${svc4}---\n${slices}---\n${svc3Slice}---\n${svc4Slice}`), { now: 0 });
    let svc4Endpoint: string;
    [svc4Endpoint, numEndpoints] = countEndpointsAndComments(r.payload, '10.4.0.1');
    expect(svc4Endpoint).toBe('-A KUBE-SEP-SU5STNODRYEWJAUF -m tcp -p tcp -j DNAT --to-destination 10.4.0.1:8082');
    expect(numEndpoints).toBe(1);

    // Deleting it within a sync period of the last cleanup leaves its chains in place.
    r = proxier.sync(loadInline(`${services}---\n${slices}---\n${svc3Slice}---\n${svc4Slice}`), { now: 0 });
    [svc4Endpoint, numEndpoints] = countEndpointsAndComments(r.payload, '10.4.0.1');
    expect(svc4Endpoint).toBe('');
    expect(numEndpoints).toBe(0);
    expect(r.payload).not.toContain('-X ');

    // One sync period (plus a tick) later, the stale chains are deleted.
    r = proxier.sync(loadInline(`${services}---\n${slices}---\n${svc3Slice}---\n${svc4Slice}`), { now: 30_001 });
    [svc4Endpoint, numEndpoints] = countEndpointsAndComments(r.payload, '10.4.0.1');
    expect(svc4Endpoint).toBe('');
    expect(numEndpoints).toBe(0);
    expect(r.payload).toContain('-X KUBE-SVC-EBDQOQU5SJFXRIL3');
    expect(r.payload).toContain('-X KUBE-SEP-SU5STNODRYEWJAUF');

    // A full sync counts everything again.
    proxier.requestFullSync();
    r = proxier.sync(loadInline(`${services}---\n${slices}---\n${svc3Slice}---\n${svc4Slice}`), { now: 30_001 });
    [, numEndpoints] = countEndpointsAndComments(r.payload, '10.0.0.0');
    expect(numEndpoints).toBe(expectedEndpoints);
  });

  it('TestProxierMetricsIPTablesTotalRules', () => {
    const proxier = createIptablesProxier(fakeProxierOptions());
    const svc = { namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: [{ name: 'p80', protocol: 'TCP' as const, port: 80, nodePort: 31201 }] };
    let r = proxier.sync({ services: [svc], endpointSlices: [] });
    expect(r.stats.filterRules).toBe(countRules('filter', r.payload));
    expect(r.stats.natRulesTotal).toBe(countRules('nat', r.payload));
    r = proxier.sync({
      services: [svc],
      endpointSlices: [
        { namespace: 'ns1', name: 'svc1-1', serviceName: 'svc1', addressType: 'IPv4', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.5'] }] },
      ],
    });
    // (upstream's second sync is partial, but the only service changed, so all rules are in the payload)
    expect(r.stats.filterRules).toBe(countRules('filter', r.payload));
    expect(r.stats.natRulesTotal).toBe(countRules('nat', r.payload));
  });

  it.each<[string, 'Cluster' | 'Local' | undefined, 'Cluster' | 'Local' | undefined, readonly [string, string][], number, number]>([
    ['internalTrafficPolicy is set and there are local endpoints', 'Local', undefined, [['10.0.1.1', 'test-node'], ['10.0.1.2', 'node1'], ['10.0.1.3', 'node2']], 0, 0],
    ['externalTrafficPolicy is set and there are local endpoints', undefined, 'Local', [['10.0.1.1', 'test-node'], ['10.0.1.2', 'node1'], ['10.0.1.3', 'node2']], 0, 0],
    ['both policies are set and there are local endpoints', 'Local', 'Local', [['10.0.1.1', 'test-node'], ['10.0.1.2', 'node1'], ['10.0.1.3', 'node2']], 0, 0],
    ['internalTrafficPolicy is set and there are no local endpoints', 'Local', undefined, [['10.0.1.1', 'node0'], ['10.0.1.2', 'node1'], ['10.0.1.3', 'node2']], 1, 0],
    ['externalTrafficPolicy is set and there are no local endpoints', undefined, 'Local', [['10.0.1.1', 'node0'], ['10.0.1.2', 'node1'], ['10.0.1.3', 'node2']], 0, 1],
    ['both policies are set and there are no local endpoints', 'Local', 'Local', [['10.0.1.1', 'node0'], ['10.0.1.2', 'node1'], ['10.0.1.3', 'node2']], 1, 1],
    ['both policies are set and there are no endpoints at all', 'Local', 'Local', [], 0, 0],
  ])('TestNoEndpointsMetric: %s', (_name, itp, etp, endpoints, internal, external) => {
    const proxier = createIptablesProxier(fakeProxierOptions());
    const r = proxier.sync({
      services: [
        {
          namespace: 'ns1',
          name: 'svc1',
          clusterIP: '172.30.1.1',
          ports: [{ protocol: 'TCP', port: 80, nodePort: 123 }],
          ...(itp === undefined ? {} : { internalTrafficPolicy: itp }),
          ...(etp === undefined ? {} : { type: 'NodePort' as const, externalTrafficPolicy: etp }),
        },
      ],
      endpointSlices: [
        {
          namespace: 'ns1',
          name: 'svc1-1',
          serviceName: 'svc1',
          addressType: 'IPv4',
          ports: [{ name: '', port: 80, protocol: 'TCP' }],
          endpoints: endpoints.map(([ip, nodeName]) => ({ addresses: [ip], ready: true, nodeName })),
        },
      ],
    });
    expect(r.stats.noLocalEndpoints).toEqual({ internal, external });
  });

  it('TestHealthCheckNodePort: the ACCEPT rule goes away with the Service', () => {
    const proxier = createIptablesProxier({ ...fakeProxierOptions(), nodePortAddresses: ['127.0.0.0/8'] });
    const svc = {
      namespace: 'ns1',
      name: 'svc1',
      type: 'LoadBalancer' as const,
      clusterIP: '172.30.0.42',
      ports: [{ name: 'p80', protocol: 'TCP' as const, port: 80, nodePort: 3001 }],
      healthCheckNodePort: 30000,
      externalTrafficPolicy: 'Local' as const,
    };
    let r = proxier.sync({ services: [svc], endpointSlices: [] });
    expect(chainRules(r.payload, 'filter', 'KUBE-NODEPORTS')).toBe(
      '-A KUBE-NODEPORTS -m comment --comment "ns1/svc1:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT\n',
    );
    r = proxier.sync({ services: [], endpointSlices: [] });
    expect(chainRules(r.payload, 'filter', 'KUBE-NODEPORTS')).toBe('');
  });
});
