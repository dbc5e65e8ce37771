/**
 * Conntrack timeouts in seconds, one per `net.netfilter.nf_conntrack_*_timeout*` sysctl.
 *
 * @remarks Linux equivalent: the per-netns timeout arrays of nf_conntrack_proto_{tcp,udp,icmp,gre,
 * generic}.c, exposed as sysctls.
 * @see https://github.com/torvalds/linux/blob/master/Documentation/networking/nf_conntrack-sysctl.rst
 */
export interface ConntrackTimeouts {
  /** nf_conntrack_tcp_timeout_syn_sent */
  readonly tcpSynSent: number;
  /** nf_conntrack_tcp_timeout_syn_recv */
  readonly tcpSynRecv: number;
  /** nf_conntrack_tcp_timeout_established */
  readonly tcpEstablished: number;
  /** nf_conntrack_tcp_timeout_fin_wait */
  readonly tcpFinWait: number;
  /** nf_conntrack_tcp_timeout_close_wait */
  readonly tcpCloseWait: number;
  /** nf_conntrack_tcp_timeout_last_ack */
  readonly tcpLastAck: number;
  /** nf_conntrack_tcp_timeout_time_wait */
  readonly tcpTimeWait: number;
  /** nf_conntrack_tcp_timeout_close */
  readonly tcpClose: number;
  /** SYN_SENT2 (simultaneous open): no sysctl of its own, the syn_sent value of the table. */
  readonly tcpSynSent2: number;
  /** nf_conntrack_tcp_timeout_max_retrans: after tcp_max_retrans retransmissions */
  readonly tcpMaxRetrans: number;
  /** nf_conntrack_tcp_timeout_unacknowledged: while data is unacknowledged */
  readonly tcpUnacknowledged: number;
  /** nf_conntrack_udp_timeout: until traffic is seen both ways (and stays active 2 s) */
  readonly udp: number;
  /** nf_conntrack_udp_timeout_stream */
  readonly udpStream: number;
  /** nf_conntrack_icmp_timeout */
  readonly icmp: number;
  /** nf_conntrack_gre_timeout */
  readonly gre: number;
  /** nf_conntrack_gre_timeout_stream */
  readonly greStream: number;
  /** nf_conntrack_generic_timeout */
  readonly generic: number;
}

/**
 * The kernel defaults (facts: cni.md §8.7): TCP established 5 days, UDP 30 s / 120 s stream,
 * ICMP 30 s, generic 600 s, GRE 30 s / 180 s stream.
 *
 * @see https://github.com/torvalds/linux/blob/master/Documentation/networking/nf_conntrack-sysctl.rst
 */
export const DEFAULT_CONNTRACK_TIMEOUTS: ConntrackTimeouts = {
  tcpSynSent: 120,
  tcpSynRecv: 60,
  tcpEstablished: 432000,
  tcpFinWait: 120,
  tcpCloseWait: 60,
  tcpLastAck: 30,
  tcpTimeWait: 120,
  tcpClose: 10,
  tcpSynSent2: 120,
  tcpMaxRetrans: 300,
  tcpUnacknowledged: 300,
  udp: 30,
  udpStream: 120,
  icmp: 30,
  gre: 30,
  greStream: 180,
  generic: 600,
};
