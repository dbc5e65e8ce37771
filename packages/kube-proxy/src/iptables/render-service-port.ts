import type { Labels } from '@knet/core';
import { categorizeEndpoints } from '../proxy/categorize-endpoints.js';
import type { EndpointInfo } from '../proxy/endpoint-info.js';
import type { ServicePortInfo } from '../proxy/service-port-info.js';
import { cidrContainsIp } from '../ip/parse-ip-sloppy.js';
import { servicePortChainNames, servicePortEndpointChainName } from './chain-names.js';
import { computeProbability } from './compute-probability.js';
import type { ResolvedIptablesOptions } from './iptables-options.js';
import { KUBE_CHAINS } from './kube-chains.js';

/** The rules one service port contributes to a sync, split the way partial syncs need them. */
export interface RenderedServicePort {
  /** nat KUBE-SERVICES and KUBE-NODEPORTS rules: written on every sync. Lines end in `\n`. */
  readonly capture: string;
  readonly captureLines: number;
  /** filter rules (REJECT/DROP, firewall, health check): written on every sync. */
  readonly filter: string;
  readonly filterLines: number;
  /** `:CHAIN - [0:0]` lines of the per-service nat chains. */
  readonly chainDecls: string;
  /** The per-service nat chains (KUBE-EXT, KUBE-FW, KUBE-SVC, KUBE-SVL, KUBE-SEP), in declaration order. */
  readonly chains: readonly string[];
  /** Their rules: written on full syncs and when the Service or its endpoints changed. */
  readonly chainRules: string;
  readonly chainRuleLines: number;
  /** Internal traffic dropped for want of local endpoints (iTP Local). */
  readonly noLocalInternal: boolean;
  /** External traffic dropped for want of local endpoints (eTP Local). */
  readonly noLocalExternal: boolean;
  /** The mode the chain rules were rendered in. */
  readonly largeClusterMode: boolean;
}

/** What the per-service-port renderer needs beyond the service port. */
export interface ServicePortRenderContext {
  readonly options: ResolvedIptablesOptions;
  readonly nodeLabels: Labels | undefined;
  readonly largeClusterMode: boolean;
}

/**
 * Renders one service port exactly as the loop body of upstream `syncProxyRules` writes it.
 *
 * @remarks Linux equivalent: none; the lines are iptables-restore input.
 * @see kubernetes pkg/proxy/iptables/proxier.go syncProxyRules, writeServiceToEndpointRules
 * @see /work/shared/facts/kube-proxy.md sections 2.6–2.8
 * @example
 * ```ts
 * import { buildServicePorts, renderServicePort, resolveIptablesOptions } from '@knet/kube-proxy';
 * const [port] = buildServicePorts({ namespace: 'ns6', name: 'svc6', clusterIP: '172.30.0.46', ports: [{ name: 'p80', protocol: 'TCP', port: 80 }] }, 'IPv4');
 * const r = renderServicePort(port!, [], { options: resolveIptablesOptions({ nodeName: 'n' }), nodeLabels: undefined, largeClusterMode: false });
 * r.filter; // '-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT\n'
 * ```
 */
export function renderServicePort(
  svc: ServicePortInfo,
  endpoints: readonly EndpointInfo[],
  ctx: ServicePortRenderContext,
): RenderedServicePort {
  const o = ctx.options;
  const large = ctx.largeClusterMode;
  const p = svc.protocol.toLowerCase();
  const name = svc.nameString;
  const port = String(svc.port);
  const mark = KUBE_CHAINS.markMasq;
  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints } = categorizeEndpoints(endpoints, svc, {
    nodeName: o.nodeName,
    nodeLabels: ctx.nodeLabels,
    preferSameTrafficDistribution: o.gates.preferSameTrafficDistribution ?? false,
  });
  const names = servicePortChainNames(name, p);
  const clusterPolicyChain = names.clusterPolicy;
  const usesClusterPolicyChain = (clusterEndpoints?.length ?? 0) > 0 && svc.usesClusterEndpoints;
  const localPolicyChain = names.localPolicy;
  const usesLocalPolicyChain = (localEndpoints?.length ?? 0) > 0 && svc.usesLocalEndpoints;

  let internalChain = clusterPolicyChain;
  let hasInternal = hasAnyEndpoints;
  if (svc.internalPolicyLocal) {
    internalChain = localPolicyChain;
    if ((localEndpoints?.length ?? 0) === 0) hasInternal = false;
  }
  let externalPolicyChain = clusterPolicyChain;
  let hasExternal = hasAnyEndpoints;
  if (svc.externalPolicyLocal) {
    externalPolicyChain = localPolicyChain;
    if ((localEndpoints?.length ?? 0) === 0) hasExternal = false;
  }
  const externalChain = names.external;
  const usesExternalChain = hasAnyEndpoints && svc.externallyAccessible;
  const fwChain = names.firewall;
  const usesFW = hasAnyEndpoints && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const lbChain = usesFW ? fwChain : externalChain;

  let internalTarget = '';
  let internalComment = '';
  let externalTarget = '';
  let externalComment = '';
  let noLocalInternal = false;
  let noLocalExternal = false;
  if (!hasAnyEndpoints) {
    internalTarget = 'REJECT';
    internalComment = `"${name} has no endpoints"`;
    externalTarget = 'REJECT';
    externalComment = internalComment;
  } else {
    if (!hasInternal) {
      internalTarget = 'DROP';
      internalComment = `"${name} has no local endpoints"`;
      noLocalInternal = true;
    }
    if (!hasExternal) {
      externalTarget = 'DROP';
      externalComment = `"${name} has no local endpoints"`;
      noLocalExternal = true;
    }
  }

  // Lines are collected in arrays and joined once: flat strings, little garbage surviving.
  const capture: string[] = [];
  const filter: string[] = [];
  const matchProto = `-m ${p} -p ${p}`;

  // Cluster IP.
  if (hasInternal) {
    capture.push(`-A KUBE-SERVICES -m comment --comment "${name} cluster IP" ${matchProto} -d ${svc.clusterIP} --dport ${port} -j ${internalChain}\n`);
  } else {
    filter.push(`-A KUBE-SERVICES -m comment --comment ${internalComment} ${matchProto} -d ${svc.clusterIP} --dport ${port} -j ${internalTarget}\n`);
  }
  // External IPs.
  for (const ip of svc.externalIPs) {
    if (hasAnyEndpoints) {
      capture.push(`-A KUBE-SERVICES -m comment --comment "${name} external IP" ${matchProto} -d ${ip} --dport ${port} -j ${externalChain}\n`);
    }
    if (!hasExternal) {
      filter.push(`-A KUBE-EXTERNAL-SERVICES -m comment --comment ${externalComment} ${matchProto} -d ${ip} --dport ${port} -j ${externalTarget}\n`);
    }
  }
  // Load-balancer ingress.
  for (const ip of svc.loadBalancerVIPs) {
    if (hasAnyEndpoints) {
      capture.push(`-A KUBE-SERVICES -m comment --comment "${name} loadbalancer IP" ${matchProto} -d ${ip} --dport ${port} -j ${lbChain}\n`);
    }
    if (usesFW) {
      filter.push(`-A KUBE-PROXY-FIREWALL -m comment --comment "${name} traffic not accepted by ${fwChain}" ${matchProto} -d ${ip} --dport ${port} -j DROP\n`);
    }
  }
  if (!hasExternal) {
    for (const ip of svc.loadBalancerVIPs) {
      filter.push(`-A KUBE-EXTERNAL-SERVICES -m comment --comment ${externalComment} ${matchProto} -d ${ip} --dport ${port} -j ${externalTarget}\n`);
    }
  }
  // Node port.
  if (svc.nodePort !== 0) {
    const np = String(svc.nodePort);
    if (hasAnyEndpoints) {
      if (o.localhostNodePorts && o.family === 'IPv4' && o.nfacctLocalhost) {
        capture.push(`-A KUBE-NODEPORTS -m comment --comment ${name} ${matchProto} -d 127.0.0.0/8 --dport ${np} -m nfacct --nfacct-name localhost_nps_accepted_pkts -j ${externalChain}\n`);
      }
      capture.push(`-A KUBE-NODEPORTS -m comment --comment ${name} ${matchProto} --dport ${np} -j ${externalChain}\n`);
    }
    if (!hasExternal) {
      filter.push(`-A KUBE-EXTERNAL-SERVICES -m comment --comment ${externalComment} -m addrtype --dst-type LOCAL ${matchProto} --dport ${np} -j ${externalTarget}\n`);
    }
  }
  // Health-check node port: accepted whether or not there are local endpoints.
  if (svc.healthCheckNodePort !== 0) {
    filter.push(`-A KUBE-NODEPORTS -m comment --comment "${name} health check node port" -m tcp -p tcp --dport ${svc.healthCheckNodePort} -j ACCEPT\n`);
  }

  // The per-service chains.
  const decls: string[] = [];
  const chains: string[] = [];
  const rules: string[] = [];
  const declare = (chain: string): void => {
    decls.push(`:${chain} - [0:0]\n`);
    chains.push(chain);
  };

  if (hasInternal) {
    const args = `-m comment --comment "${name} cluster IP" ${matchProto} -d ${svc.clusterIP} --dport ${port}`;
    if (o.masqueradeAll) {
      rules.push(`-A ${internalChain} ${args} -j ${mark}\n`);
    } else if (o.detector !== undefined) {
      rules.push(`-A ${internalChain} ${args} ${o.detector.ifNotLocal} -j ${mark}\n`);
    }
  }

  if (usesExternalChain) {
    declare(externalChain);
    if (!svc.externalPolicyLocal) {
      rules.push(`-A ${externalChain} -m comment --comment "masquerade traffic for ${name} external destinations" -j ${mark}\n`);
    } else {
      if (o.detector !== undefined) {
        rules.push(`-A ${externalChain} -m comment --comment "pod traffic for ${name} external destinations" ${o.detector.ifLocal} -j ${clusterPolicyChain}\n`);
      }
      rules.push(`-A ${externalChain} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${mark}\n`);
      rules.push(`-A ${externalChain} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${clusterPolicyChain}\n`);
    }
    if (hasExternal) {
      rules.push(`-A ${externalChain} -j ${externalPolicyChain}\n`);
    }
  }

  if (usesFW) {
    declare(fwChain);
    const args = `-A ${fwChain} -m comment --comment "${name} loadbalancer IP"`;
    let allowFromNode = false;
    for (const cidr of svc.loadBalancerSourceRanges) {
      rules.push(`${args} -s ${cidr.text} -j ${externalChain}\n`);
      if (o.nodeIP !== undefined && cidrContainsIp(cidr, o.nodeIP)) allowFromNode = true;
    }
    if (allowFromNode) {
      for (const ip of svc.loadBalancerVIPs) {
        rules.push(`${args} -s ${ip} -j ${externalChain}\n`);
      }
    }
    rules.push(`-A ${fwChain} -m comment --comment "other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL"\n`);
  }

  const sepName = new Map<string, string>();
  const sepOf = (ep: EndpointInfo): string => {
    let chain = sepName.get(ep.endpoint);
    if (chain === undefined) {
      chain = servicePortEndpointChainName(name, p, ep.endpoint);
      sepName.set(ep.endpoint, chain);
    }
    return chain;
  };
  const writeServiceToEndpointRules = (chain: string, eps: readonly EndpointInfo[]): void => {
    if (svc.sessionAffinityClientIP) {
      for (const ep of eps) {
        const sep = sepOf(ep);
        const comment = large ? '' : ` -m comment --comment "${name} -> ${ep.endpoint}"`;
        rules.push(`-A ${chain}${comment} -m recent --name ${sep} --rcheck --seconds ${svc.stickyMaxAgeSeconds} --reap -j ${sep}\n`);
      }
    }
    const n = eps.length;
    for (let i = 0; i < n; i++) {
      const ep = eps[i] as EndpointInfo;
      const comment = large ? '' : ` -m comment --comment "${name} -> ${ep.endpoint}"`;
      const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
      rules.push(`-A ${chain}${comment}${stat} -j ${sepOf(ep)}\n`);
    }
  };

  if (usesClusterPolicyChain) {
    declare(clusterPolicyChain);
    writeServiceToEndpointRules(clusterPolicyChain, clusterEndpoints ?? []);
  }
  if (usesLocalPolicyChain) {
    declare(localPolicyChain);
    writeServiceToEndpointRules(localPolicyChain, localEndpoints ?? []);
  }

  const sepComment = large ? '' : ` -m comment --comment ${name}`;
  for (const ep of allReachableEndpoints) {
    const sep = sepOf(ep);
    declare(sep);
    rules.push(`-A ${sep}${sepComment} -s ${ep.ip} -j ${mark}\n`);
    const affinity = svc.sessionAffinityClientIP ? ` -m recent --name ${sep} --set` : '';
    rules.push(`-A ${sep}${sepComment}${affinity} ${matchProto} -j DNAT --to-destination ${ep.endpoint}\n`);
  }

  return {
    capture: flatten(capture.join('')),
    captureLines: capture.length,
    filter: flatten(filter.join('')),
    filterLines: filter.length,
    chainDecls: flatten(decls.join('')),
    chains,
    chainRules: flatten(rules.join('')),
    chainRuleLines: rules.length,
    noLocalInternal,
    noLocalExternal,
    largeClusterMode: large,
  };
}

/**
 * Reading a character makes V8 flatten a concatenated string in place; done once here, every
 * later sync copies the cached text instead of walking the concatenation again.
 */
function flatten(text: string): string {
  if (text.length > 0) text.charCodeAt(0);
  return text;
}

const PROBABILITIES: string[] = ['<bad value>'];

/** Upstream precomputes the 1/n strings; so does knet. */
function probability(n: number): string {
  for (let i = PROBABILITIES.length; i <= n; i++) PROBABILITIES.push(computeProbability(i));
  return PROBABILITIES[n] as string;
}
