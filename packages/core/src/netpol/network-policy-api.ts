/**
 * The Kubernetes API shapes of the policy objects knet reads, as they appear in manifests:
 * `networking.k8s.io/v1` NetworkPolicy and `policy.networking.k8s.io/v1alpha1`
 * AdminNetworkPolicy / BaselineAdminNetworkPolicy. Optional fields are optional here too: the
 * objects are kept as loaded (after validation); `netpol/` normalises them.
 *
 * @see kubernetes staging/src/k8s.io/api/networking/v1/types.go
 * @see kubernetes-sigs/network-policy-api apis/v1alpha1/{adminnetworkpolicy,baselineadminnetworkpolicy,shared}_types.go
 */

/** The protocols Kubernetes network policy ports accept. */
export type PolicyProtocol = 'TCP' | 'UDP' | 'SCTP';

/** A `matchExpressions` requirement of a label selector. */
export type LabelSelectorRequirementObject = {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
};

/** A `metav1.LabelSelector`: `matchLabels` AND `matchExpressions`; empty selects everything. */
export type LabelSelectorObject = {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirementObject[];
};

/** `metadata` of a policy object (the fields knet reads). */
export type PolicyObjectMeta = {
  readonly name: string;
  /** Absent means `default` for a NetworkPolicy (as `kubectl apply` does); cluster-scoped kinds have none. */
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
};

/** `spec.ingress[].from[].ipBlock` / `spec.egress[].to[].ipBlock`. */
export type IpBlockObject = {
  readonly cidr: string;
  readonly except?: readonly string[];
};

/** One peer of a NetworkPolicy rule: selectors (alone or combined), or an ipBlock. */
export type NetworkPolicyPeerObject = {
  readonly podSelector?: LabelSelectorObject;
  readonly namespaceSelector?: LabelSelectorObject;
  readonly ipBlock?: IpBlockObject;
};

/** One port entry of a NetworkPolicy rule. */
export type NetworkPolicyPortObject = {
  /** Defaults to `TCP`. */
  readonly protocol?: PolicyProtocol;
  /** A number or a container port name; absent matches every port of the protocol. */
  readonly port?: number | string;
  /** Inclusive end of a numeric range starting at `port`. */
  readonly endPort?: number;
};

/** `spec.ingress[]` of a NetworkPolicy. */
export type NetworkPolicyIngressRuleObject = {
  readonly ports?: readonly NetworkPolicyPortObject[];
  readonly from?: readonly NetworkPolicyPeerObject[];
};

/** `spec.egress[]` of a NetworkPolicy. */
export type NetworkPolicyEgressRuleObject = {
  readonly ports?: readonly NetworkPolicyPortObject[];
  readonly to?: readonly NetworkPolicyPeerObject[];
};

/** `spec` of a NetworkPolicy. */
export type NetworkPolicySpecObject = {
  readonly podSelector?: LabelSelectorObject;
  readonly policyTypes?: readonly ('Ingress' | 'Egress')[];
  readonly ingress?: readonly NetworkPolicyIngressRuleObject[];
  readonly egress?: readonly NetworkPolicyEgressRuleObject[];
};

/** A `networking.k8s.io/v1` NetworkPolicy object as loaded from a manifest. */
export type NetworkPolicyObject = {
  readonly apiVersion: 'networking.k8s.io/v1';
  readonly kind: 'NetworkPolicy';
  readonly metadata: PolicyObjectMeta;
  readonly spec?: NetworkPolicySpecObject;
};

/** `namespaceSelector` AND `podSelector` (AdminNetworkPolicy `pods` subject and peer). */
export type NamespacedPodObject = {
  readonly namespaceSelector: LabelSelectorObject;
  readonly podSelector: LabelSelectorObject;
};

/** `spec.subject` of an AdminNetworkPolicy or BaselineAdminNetworkPolicy: exactly one field. */
export type AdminNetworkPolicySubjectObject = {
  readonly namespaces?: LabelSelectorObject;
  readonly pods?: NamespacedPodObject;
};

/** One port entry of an AdminNetworkPolicy rule: exactly one field. */
export type AdminNetworkPolicyPortObject = {
  readonly portNumber?: { readonly protocol?: PolicyProtocol; readonly port: number };
  readonly namedPort?: string;
  readonly portRange?: { readonly protocol?: PolicyProtocol; readonly start: number; readonly end: number };
};

/** One peer of an AdminNetworkPolicy rule: exactly one field (`nodes`, `networks`, `domainNames` on egress only). */
export type AdminNetworkPolicyPeerObject = {
  readonly namespaces?: LabelSelectorObject;
  readonly pods?: NamespacedPodObject;
  readonly nodes?: LabelSelectorObject;
  readonly networks?: readonly string[];
  readonly domainNames?: readonly string[];
};

/** An ingress rule of an AdminNetworkPolicy (`Allow`, `Deny`, `Pass`) or BaselineAdminNetworkPolicy (`Allow`, `Deny`). */
export type AdminNetworkPolicyIngressRuleObject = {
  readonly name?: string;
  readonly action: 'Allow' | 'Deny' | 'Pass';
  readonly from: readonly AdminNetworkPolicyPeerObject[];
  readonly ports?: readonly AdminNetworkPolicyPortObject[];
};

/** An egress rule of an AdminNetworkPolicy or BaselineAdminNetworkPolicy. */
export type AdminNetworkPolicyEgressRuleObject = {
  readonly name?: string;
  readonly action: 'Allow' | 'Deny' | 'Pass';
  readonly to: readonly AdminNetworkPolicyPeerObject[];
  readonly ports?: readonly AdminNetworkPolicyPortObject[];
};

/** A `policy.networking.k8s.io/v1alpha1` AdminNetworkPolicy (cluster-scoped). */
export type AdminNetworkPolicyObject = {
  readonly apiVersion: 'policy.networking.k8s.io/v1alpha1';
  readonly kind: 'AdminNetworkPolicy';
  readonly metadata: PolicyObjectMeta;
  readonly spec: {
    readonly priority: number;
    readonly subject: AdminNetworkPolicySubjectObject;
    readonly ingress?: readonly AdminNetworkPolicyIngressRuleObject[];
    readonly egress?: readonly AdminNetworkPolicyEgressRuleObject[];
  };
};

/** A `policy.networking.k8s.io/v1alpha1` BaselineAdminNetworkPolicy (the cluster-scoped singleton `default`). */
export type BaselineAdminNetworkPolicyObject = {
  readonly apiVersion: 'policy.networking.k8s.io/v1alpha1';
  readonly kind: 'BaselineAdminNetworkPolicy';
  readonly metadata: PolicyObjectMeta;
  readonly spec: {
    readonly subject: AdminNetworkPolicySubjectObject;
    readonly ingress?: readonly AdminNetworkPolicyIngressRuleObject[];
    readonly egress?: readonly AdminNetworkPolicyEgressRuleObject[];
  };
};

/** The API version of AdminNetworkPolicy and BaselineAdminNetworkPolicy. */
export const ADMIN_NETWORK_POLICY_API_VERSION = 'policy.networking.k8s.io/v1alpha1';
