import { KnetError } from '../errors/knet-error.js';
import { cidrLast, cidrsOverlap, formatIpv4Cidr, nthSubnet } from '../ip/ipv4.js';
import type { Ipv4Cidr } from '../ip/ipv4.js';

/**
 * The pod-CIDR allocator of kube-controller-manager's range allocator: the cluster CIDR cut
 * into `/subnetMaskSize` blocks, a used-bit per block, and `allocateNext()` handing out the next
 * free block after the last one handed out.
 *
 * @remarks
 * - `occupy()` marks every block a CIDR touches as used (a /23 occupies two /24 blocks, a /25 the
 *   /24 holding it; a CIDR as large as the cluster CIDR occupies all of it). It fails only when
 *   the CIDR does not overlap the cluster CIDR at all, as upstream's `getBeginingAndEndIndices`.
 * - `allocateNext()` scans from `nextCandidate` (initially 0) and wraps; after an allocation the
 *   candidate moves past it. With no releases, as in knet, that is "lowest free block first".
 * - Used blocks are kept as single indices plus a few ranges (a service range filtered out of a
 *   large cluster CIDR), so a /8 cut into /24s costs nothing up front.
 * - Linux equivalent: none; this is the controller that fills `node.spec.podCIDR`.
 * @see kubernetes pkg/controller/nodeipam/ipam/cidrset/cidr_set.go (CidrSet, AllocateNext, Occupy)
 * @example
 * ```ts
 * import { CidrSet, parseIpv4Cidr, formatIpv4Cidr } from '@knet/core';
 * const set = new CidrSet(parseIpv4Cidr('10.244.0.0/16'), 24);
 * set.occupy(parseIpv4Cidr('10.244.0.0/24'));
 * formatIpv4Cidr(set.allocateNext()); // '10.244.1.0/24'
 * ```
 */
export class CidrSet {
  /** The number of `/subnetMaskSize` blocks in the cluster CIDR. */
  readonly maxCidrs: number;
  private readonly usedSingles = new Set<number>();
  private readonly usedRanges: [number, number][] = [];
  private nextCandidate = 0;

  /**
   * @throws KnetError `EINVAL` when `subnetMaskSize` is shorter than the cluster CIDR's prefix or longer than 32.
   */
  constructor(
    readonly clusterCidr: Ipv4Cidr,
    readonly subnetMaskSize: number,
  ) {
    if (subnetMaskSize < clusterCidr.prefix || subnetMaskSize > 32) {
      throw new KnetError('EINVAL', `cannot cut ${formatIpv4Cidr(clusterCidr)} into /${subnetMaskSize} blocks`, {
        clusterCIDR: formatIpv4Cidr(clusterCidr),
        subnetMaskSize,
      });
    }
    this.maxCidrs = 2 ** (subnetMaskSize - clusterCidr.prefix);
  }

  /** The block index holding `address` (which must lie in the cluster CIDR). */
  private indexOf(address: number): number {
    return Math.floor((address - this.clusterCidr.address) / 2 ** (32 - this.subnetMaskSize));
  }

  /** The first and last block indices `cidr` touches, as upstream's `getBeginingAndEndIndices`. */
  indices(cidr: Ipv4Cidr): [number, number] {
    if (!cidrsOverlap(this.clusterCidr, cidr)) {
      throw new KnetError(
        'EINVAL',
        `cidr ${formatIpv4Cidr(cidr)} is out the range of cluster cidr ${formatIpv4Cidr(this.clusterCidr)}`,
        { cidr: formatIpv4Cidr(cidr), clusterCIDR: formatIpv4Cidr(this.clusterCidr) },
      );
    }
    if (cidr.prefix <= this.clusterCidr.prefix) return [0, this.maxCidrs - 1];
    return [this.indexOf(cidr.address), this.indexOf(cidrLast(cidr))];
  }

  /**
   * Marks the blocks `cidr` touches as used. Like upstream, it does not check whether they were used before.
   * @throws KnetError `EINVAL` when `cidr` does not overlap the cluster CIDR.
   */
  occupy(cidr: Ipv4Cidr): void {
    const [begin, end] = this.indices(cidr);
    if (begin === end) this.usedSingles.add(begin);
    else this.usedRanges.push([begin, end]);
  }

  /** True when block `index` is used. */
  isUsed(index: number): boolean {
    return this.rangeEndCovering(index) !== undefined || this.usedSingles.has(index);
  }

  private rangeEndCovering(index: number): number | undefined {
    for (const [b, e] of this.usedRanges) if (index >= b && index <= e) return e;
    return undefined;
  }

  /**
   * Allocates the next free block.
   * @throws KnetError `ENOSPC` when every block is used, with `details.clusterCIDR` and `details.subnets`.
   */
  allocateNext(): Ipv4Cidr {
    let scanned = 0;
    let candidate = this.nextCandidate;
    while (scanned < this.maxCidrs) {
      const rangeEnd = this.rangeEndCovering(candidate);
      if (rangeEnd !== undefined) {
        // Skip the whole range at once; it may wrap past the end.
        const skip = rangeEnd - candidate + 1;
        scanned += skip;
        candidate = (rangeEnd + 1) % this.maxCidrs;
        continue;
      }
      if (!this.usedSingles.has(candidate)) {
        this.usedSingles.add(candidate);
        this.nextCandidate = (candidate + 1) % this.maxCidrs;
        return nthSubnet(this.clusterCidr, this.subnetMaskSize, candidate);
      }
      scanned++;
      candidate = (candidate + 1) % this.maxCidrs;
    }
    throw new KnetError(
      'ENOSPC',
      `CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range: ${formatIpv4Cidr(this.clusterCidr)} has ${this.maxCidrs} /${this.subnetMaskSize} blocks`,
      { clusterCIDR: formatIpv4Cidr(this.clusterCidr), subnets: this.maxCidrs },
    );
  }
}
