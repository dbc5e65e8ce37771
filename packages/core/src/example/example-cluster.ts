import { loadManifests } from '../k8s/load-manifests.js';
import type { LoadedManifests } from '../k8s/load-manifests.js';

/** The file name errors and warnings use for the embedded example cluster. */
export const EXAMPLE_CLUSTER_FILE = '<example>';

/**
 * The embedded example cluster, used by commands run without manifests: a small shop on three
 * kind-style nodes with kubenet and kube-proxy in iptables mode.
 *
 * @remarks
 * - `KnetCluster` `example`: kubenet, iptables, every other field at its default
 *   (cluster CIDR 10.244.0.0/16, service CIDR 10.96.0.0/12, /24 per node).
 * - Nodes `node-1`..`node-3` at 172.18.0.2-4 (a kind cluster's Docker network; kind's first node
 *   would be its control plane, here all three are workers) with pod CIDRs 10.244.0.0/24,
 *   10.244.1.0/24, 10.244.2.0/24.
 * - Namespaces `default`, `shop`, `kube-system`.
 * - Pods on every node. Every pod a Service selects has a `status.podIP`: the address host-local
 *   hands out on its node, from `.2` upward in the order the pods appear (the gateway `.1` is
 *   cbr0's). `default/client` and `shop/loadgen-…` have no IP, so the plugin's IPAM assigns
 *   the next one (`.4` on their nodes). The `kube-proxy-…` pods use the host network.
 * - `shop/cart-…` pods run two containers that talk over localhost: `cart` (port `http`
 *   8080) and `redis-sidecar` (port `redis` 6379).
 * - Services: `kube-system/kube-dns` (ClusterIP 10.96.0.10, the kubeadm default), `shop/cart`
 *   (ClusterIP, named targetPort `http`), `shop/db` (NodePort 30432) and `shop/frontend`
 *   (LoadBalancer, NodePort 30080, ingress IP 203.0.113.10 from RFC 5737), each with the
 *   EndpointSlice the EndpointSlice controller would write.
 * - NetworkPolicies in `shop`: default-deny ingress; frontend open on its `http` port; cart
 *   reachable from frontend on `http`; db reachable from cart on `postgres`.
 */
export const EXAMPLE_CLUSTER_YAML = `# knet example cluster: three nodes, kubenet, kube-proxy (iptables)
apiVersion: knet.dev/v1alpha1
kind: KnetCluster
metadata:
  name: example
spec:
  cni:
    plugin: kubenet
  kubeProxy:
    mode: iptables
---
apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels:
    kubernetes.io/metadata.name: default
---
apiVersion: v1
kind: Namespace
metadata:
  name: kube-system
  labels:
    kubernetes.io/metadata.name: kube-system
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    kubernetes.io/metadata.name: shop
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: node-1
    kubernetes.io/os: linux
spec:
  podCIDR: 10.244.0.0/24
  podCIDRs:
  - 10.244.0.0/24
status:
  addresses:
  - type: InternalIP
    address: 172.18.0.2
  - type: Hostname
    address: node-1
---
apiVersion: v1
kind: Node
metadata:
  name: node-2
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: node-2
    kubernetes.io/os: linux
spec:
  podCIDR: 10.244.1.0/24
  podCIDRs:
  - 10.244.1.0/24
status:
  addresses:
  - type: InternalIP
    address: 172.18.0.3
  - type: Hostname
    address: node-2
---
apiVersion: v1
kind: Node
metadata:
  name: node-3
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: node-3
    kubernetes.io/os: linux
spec:
  podCIDR: 10.244.2.0/24
  podCIDRs:
  - 10.244.2.0/24
status:
  addresses:
  - type: InternalIP
    address: 172.18.0.4
  - type: Hostname
    address: node-3
---
# node-1: coredns (.2), a frontend replica (.3), the client (IPAM: .4), kube-proxy (host network)
apiVersion: v1
kind: Pod
metadata:
  name: coredns-7db6d8ff4d-x5k8w
  namespace: kube-system
  labels:
    k8s-app: kube-dns
    pod-template-hash: 7db6d8ff4d
spec:
  nodeName: node-1
  containers:
  - name: coredns
    image: registry.k8s.io/coredns/coredns:v1.11.1
    args: ["-conf", "/etc/coredns/Corefile"]
    ports:
    - name: dns
      containerPort: 53
      protocol: UDP
    - name: dns-tcp
      containerPort: 53
      protocol: TCP
    - name: metrics
      containerPort: 9153
      protocol: TCP
status:
  phase: Running
  hostIP: 172.18.0.2
  podIP: 10.244.0.2
  podIPs:
  - ip: 10.244.0.2
---
apiVersion: v1
kind: Pod
metadata:
  name: frontend-7c9d6b8f4-2qzrt
  namespace: shop
  labels:
    app: frontend
    pod-template-hash: 7c9d6b8f4
spec:
  nodeName: node-1
  containers:
  - name: frontend
    image: nginxinc/nginx-unprivileged:1.27
    ports:
    - name: http
      containerPort: 8080
      protocol: TCP
status:
  phase: Running
  hostIP: 172.18.0.2
  podIP: 10.244.0.3
  podIPs:
  - ip: 10.244.0.3
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: default
  labels:
    run: client
spec:
  nodeName: node-1
  containers:
  - name: client
    image: curlimages/curl:8.8.0
    command: ["sleep", "infinity"]
status:
  phase: Pending
  hostIP: 172.18.0.2
---
apiVersion: v1
kind: Pod
metadata:
  name: kube-proxy-7xkzp
  namespace: kube-system
  labels:
    k8s-app: kube-proxy
spec:
  nodeName: node-1
  hostNetwork: true
  containers:
  - name: kube-proxy
    image: registry.k8s.io/kube-proxy:v1.30.0
    command: ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"]
---
# node-2: a frontend replica (.2), a cart replica (.3), the load generator (IPAM: .4), kube-proxy
apiVersion: v1
kind: Pod
metadata:
  name: frontend-7c9d6b8f4-9wlmf
  namespace: shop
  labels:
    app: frontend
    pod-template-hash: 7c9d6b8f4
spec:
  nodeName: node-2
  containers:
  - name: frontend
    image: nginxinc/nginx-unprivileged:1.27
    ports:
    - name: http
      containerPort: 8080
      protocol: TCP
status:
  phase: Running
  hostIP: 172.18.0.3
  podIP: 10.244.1.2
  podIPs:
  - ip: 10.244.1.2
---
apiVersion: v1
kind: Pod
metadata:
  name: cart-5d8b9c7f6-hv4nx
  namespace: shop
  labels:
    app: cart
    pod-template-hash: 5d8b9c7f6
spec:
  nodeName: node-2
  containers:
  - name: cart
    image: ghcr.io/knet-example/cart:1.4.2
    env:
    - name: REDIS_ADDR
      value: 127.0.0.1:6379
    ports:
    - name: http
      containerPort: 8080
      protocol: TCP
  - name: redis-sidecar
    image: redis:7.2
    ports:
    - name: redis
      containerPort: 6379
      protocol: TCP
status:
  phase: Running
  hostIP: 172.18.0.3
  podIP: 10.244.1.3
  podIPs:
  - ip: 10.244.1.3
---
apiVersion: v1
kind: Pod
metadata:
  name: loadgen-6f9c8d7b5-tq2mz
  namespace: shop
  labels:
    app: loadgen
    pod-template-hash: 6f9c8d7b5
spec:
  nodeName: node-2
  containers:
  - name: loadgen
    image: grafana/k6:0.52.0
    args: ["run", "/scripts/browse.js"]
status:
  phase: Pending
  hostIP: 172.18.0.3
---
apiVersion: v1
kind: Pod
metadata:
  name: kube-proxy-b6dqs
  namespace: kube-system
  labels:
    k8s-app: kube-proxy
spec:
  nodeName: node-2
  hostNetwork: true
  containers:
  - name: kube-proxy
    image: registry.k8s.io/kube-proxy:v1.30.0
    command: ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"]
---
# node-3: a cart replica (.2), the database (.3), kube-proxy
apiVersion: v1
kind: Pod
metadata:
  name: cart-5d8b9c7f6-r8zjp
  namespace: shop
  labels:
    app: cart
    pod-template-hash: 5d8b9c7f6
spec:
  nodeName: node-3
  containers:
  - name: cart
    image: ghcr.io/knet-example/cart:1.4.2
    env:
    - name: REDIS_ADDR
      value: 127.0.0.1:6379
    ports:
    - name: http
      containerPort: 8080
      protocol: TCP
  - name: redis-sidecar
    image: redis:7.2
    ports:
    - name: redis
      containerPort: 6379
      protocol: TCP
status:
  phase: Running
  hostIP: 172.18.0.4
  podIP: 10.244.2.2
  podIPs:
  - ip: 10.244.2.2
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
  namespace: shop
  labels:
    app: db
    statefulset.kubernetes.io/pod-name: db-0
spec:
  nodeName: node-3
  containers:
  - name: postgres
    image: postgres:16
    ports:
    - name: postgres
      containerPort: 5432
      protocol: TCP
status:
  phase: Running
  hostIP: 172.18.0.4
  podIP: 10.244.2.3
  podIPs:
  - ip: 10.244.2.3
---
apiVersion: v1
kind: Pod
metadata:
  name: kube-proxy-mk9tf
  namespace: kube-system
  labels:
    k8s-app: kube-proxy
spec:
  nodeName: node-3
  hostNetwork: true
  containers:
  - name: kube-proxy
    image: registry.k8s.io/kube-proxy:v1.30.0
    command: ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  type: ClusterIP
  clusterIP: 10.96.0.10
  clusterIPs:
  - 10.96.0.10
  selector:
    k8s-app: kube-dns
  ports:
  - name: dns
    port: 53
    protocol: UDP
    targetPort: 53
  - name: dns-tcp
    port: 53
    protocol: TCP
    targetPort: 53
  - name: metrics
    port: 9153
    protocol: TCP
    targetPort: 9153
---
apiVersion: v1
kind: Service
metadata:
  name: frontend
  namespace: shop
spec:
  type: LoadBalancer
  clusterIP: 10.96.12.34
  clusterIPs:
  - 10.96.12.34
  selector:
    app: frontend
  ports:
  - name: http
    port: 80
    protocol: TCP
    targetPort: http
    nodePort: 30080
  externalTrafficPolicy: Cluster
status:
  loadBalancer:
    ingress:
    - ip: 203.0.113.10
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  type: ClusterIP
  clusterIP: 10.96.45.67
  clusterIPs:
  - 10.96.45.67
  selector:
    app: cart
  ports:
  - name: http
    port: 8080
    protocol: TCP
    targetPort: http
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: shop
spec:
  type: NodePort
  clusterIP: 10.96.78.90
  clusterIPs:
  - 10.96.78.90
  selector:
    app: db
  ports:
  - name: postgres
    port: 5432
    protocol: TCP
    targetPort: postgres
    nodePort: 30432
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-wq2lx
  namespace: kube-system
  labels:
    endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
    kubernetes.io/service-name: kube-dns
addressType: IPv4
ports:
- name: dns
  port: 53
  protocol: UDP
- name: dns-tcp
  port: 53
  protocol: TCP
- name: metrics
  port: 9153
  protocol: TCP
endpoints:
- addresses:
  - 10.244.0.2
  conditions:
    ready: true
    serving: true
    terminating: false
  nodeName: node-1
  targetRef:
    kind: Pod
    namespace: kube-system
    name: coredns-7db6d8ff4d-x5k8w
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: frontend-7hk4z
  namespace: shop
  labels:
    endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
    kubernetes.io/service-name: frontend
addressType: IPv4
ports:
- name: http
  port: 8080
  protocol: TCP
endpoints:
- addresses:
  - 10.244.0.3
  conditions:
    ready: true
    serving: true
    terminating: false
  nodeName: node-1
  targetRef:
    kind: Pod
    namespace: shop
    name: frontend-7c9d6b8f4-2qzrt
- addresses:
  - 10.244.1.2
  conditions:
    ready: true
    serving: true
    terminating: false
  nodeName: node-2
  targetRef:
    kind: Pod
    namespace: shop
    name: frontend-7c9d6b8f4-9wlmf
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: cart-mxz6r
  namespace: shop
  labels:
    endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
    kubernetes.io/service-name: cart
addressType: IPv4
ports:
- name: http
  port: 8080
  protocol: TCP
endpoints:
- addresses:
  - 10.244.1.3
  conditions:
    ready: true
    serving: true
    terminating: false
  nodeName: node-2
  targetRef:
    kind: Pod
    namespace: shop
    name: cart-5d8b9c7f6-hv4nx
- addresses:
  - 10.244.2.2
  conditions:
    ready: true
    serving: true
    terminating: false
  nodeName: node-3
  targetRef:
    kind: Pod
    namespace: shop
    name: cart-5d8b9c7f6-r8zjp
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-b9t5n
  namespace: shop
  labels:
    endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
    kubernetes.io/service-name: db
addressType: IPv4
ports:
- name: postgres
  port: 5432
  protocol: TCP
endpoints:
- addresses:
  - 10.244.2.3
  conditions:
    ready: true
    serving: true
    terminating: false
  nodeName: node-3
  targetRef:
    kind: Pod
    namespace: shop
    name: db-0
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: shop
spec:
  podSelector: {}
  policyTypes:
  - Ingress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-frontend-ingress
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: frontend
  policyTypes:
  - Ingress
  ingress:
  - ports:
    - protocol: TCP
      port: http
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-frontend-to-cart
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: cart
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: frontend
    ports:
    - protocol: TCP
      port: http
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-cart-to-db
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: db
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: cart
    ports:
    - protocol: TCP
      port: postgres
`;

/**
 * Loads {@link EXAMPLE_CLUSTER_YAML} as if it were a file named `<example>`.
 *
 * @remarks Linux equivalent: none.
 * @example
 * ```ts
 * import { buildClusterState, loadExampleCluster } from '@knet/core';
 * const state = buildClusterState(loadExampleCluster());
 * state.pods.length; // 11
 * ```
 */
export function loadExampleCluster(): LoadedManifests {
  return loadManifests([{ file: EXAMPLE_CLUSTER_FILE, text: EXAMPLE_CLUSTER_YAML }]);
}
