/**
 * Normalised, validated forms of the policy objects: defaults applied (`protocol: TCP`, the
 * effective `policyTypes`), CIDRs parsed to numbers, selectors flattened. Produced by
 * `validateNetworkPolicy`, `validateAdminNetworkPolicy` and `validateBaselineAdminNetworkPolicy`;
 * consumed by `buildPolicyIndex`.
 */
import type { Ipv4Cidr } from '../ip/ipv4.js';
import type { Labels } from '../cluster/cluster-state.js';
import type { PolicyProtocol } from './network-policy-api.js';

/** One `matchExpressions` requirement. */
export interface ParsedLabelRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Empty for `Exists` / `DoesNotExist`. */
  readonly values: readonly string[];
}

/** A label selector: every `matchLabels` pair AND every requirement; empty selects everything. */
export interface ParsedLabelSelector {
  readonly matchLabels: Labels;
  readonly matchExpressions: readonly ParsedLabelRequirement[];
}

/** An `ipBlock` (NetworkPolicy) or one CIDR of `networks` (AdminNetworkPolicy). */
export interface ParsedIpBlock {
  /** The CIDR as written. */
  readonly cidr: string;
  /** The `except` CIDRs as written. */
  readonly except: readonly string[];
  /** `IPv6` blocks are kept but never match: knet models IPv4 (an IPv4 address never matches an IPv6 block). */
  readonly family: 'IPv4' | 'IPv6';
  /** The parsed IPv4 prefix (host bits masked, as the API server's sloppy parser does). */
  readonly v4?: Ipv4Cidr;
  readonly exceptV4: readonly Ipv4Cidr[];
}

/** A peer of a NetworkPolicy rule. */
export type ParsedNetworkPolicyPeer =
  | {
      readonly kind: 'pods';
      /** Absent: every pod (of the selected namespaces). */
      readonly podSelector?: ParsedLabelSelector;
      /** Absent: the policy's own namespace only. `{}`: every namespace. */
      readonly namespaceSelector?: ParsedLabelSelector;
    }
  | { readonly kind: 'ipBlock'; readonly block: ParsedIpBlock };

/** A port entry of a NetworkPolicy rule, with the protocol defaulted. */
export interface ParsedNetworkPolicyPort {
  readonly protocol: PolicyProtocol;
  /** Absent: every port of the protocol. A string is a container port name. */
  readonly port?: number | string;
  readonly endPort?: number;
}

/** One ingress or egress rule: its ports (empty = all) AND its peers (empty = all). */
export interface ParsedNetworkPolicyRule {
  readonly ports: readonly ParsedNetworkPolicyPort[];
  readonly peers: readonly ParsedNetworkPolicyPeer[];
}

/** A validated NetworkPolicy. */
export interface ParsedNetworkPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: ParsedLabelSelector;
  /** The effective `policyTypes`: as written, or inferred (Ingress always; Egress when `spec.egress` has rules). */
  readonly policyTypes: readonly ('Ingress' | 'Egress')[];
  /** True when `policyTypes` was absent or empty and knet inferred it. */
  readonly policyTypesInferred: boolean;
  /** The ingress rules; they only apply when `policyTypes` includes `Ingress`. */
  readonly ingress: readonly ParsedNetworkPolicyRule[];
  readonly egress: readonly ParsedNetworkPolicyRule[];
}

/** Which pods an AdminNetworkPolicy or BaselineAdminNetworkPolicy applies to. */
export interface ParsedAdminSubject {
  readonly namespaceSelector: ParsedLabelSelector;
  /** Absent for a `namespaces` subject (every pod of the namespaces). */
  readonly podSelector?: ParsedLabelSelector;
}

/** A peer of an AdminNetworkPolicy or BaselineAdminNetworkPolicy rule. */
export type ParsedAdminPeer =
  | { readonly kind: 'namespaces'; readonly namespaceSelector: ParsedLabelSelector }
  | { readonly kind: 'pods'; readonly namespaceSelector: ParsedLabelSelector; readonly podSelector: ParsedLabelSelector }
  | { readonly kind: 'nodes'; readonly nodeSelector: ParsedLabelSelector }
  | { readonly kind: 'networks'; readonly networks: readonly ParsedIpBlock[] }
  | { readonly kind: 'domainNames'; readonly domainNames: readonly string[] }
  /** No field knet knows: the API says to fail closed. */
  | { readonly kind: 'unknown'; readonly fields: readonly string[] };

/** A port entry of an AdminNetworkPolicy rule. */
export type ParsedAdminPort =
  | { readonly kind: 'portNumber'; readonly protocol: PolicyProtocol; readonly port: number }
  | { readonly kind: 'portRange'; readonly protocol: PolicyProtocol; readonly start: number; readonly end: number }
  | { readonly kind: 'namedPort'; readonly name: string };

/** The action of an admin rule (`Pass` only in AdminNetworkPolicy). */
export type AdminRuleAction = 'Allow' | 'Deny' | 'Pass';

/** One rule of an AdminNetworkPolicy or BaselineAdminNetworkPolicy. */
export interface ParsedAdminRule {
  /** `name` of the rule (empty when not given). */
  readonly name: string;
  readonly action: AdminRuleAction;
  readonly peers: readonly ParsedAdminPeer[];
  /** Absent: every port and protocol. */
  readonly ports?: readonly ParsedAdminPort[];
}

/** A validated AdminNetworkPolicy (`kind: 'admin'`) or BaselineAdminNetworkPolicy (`kind: 'baseline'`). */
export interface ParsedAdminNetworkPolicy {
  readonly kind: 'admin' | 'baseline';
  readonly name: string;
  /** 0..1000, lower first; `Infinity` for the baseline. */
  readonly priority: number;
  readonly subject: ParsedAdminSubject;
  readonly ingress: readonly ParsedAdminRule[];
  readonly egress: readonly ParsedAdminRule[];
}
