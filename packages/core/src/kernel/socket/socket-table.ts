import { KnetError } from '../../errors/knet-error.js';

/** A listening socket (a server in a container), or a connected client socket. */
export interface SimSocket {
  readonly proto: 'tcp' | 'udp';
  /** Bound address; 0 means INADDR_ANY. */
  readonly addr: number;
  readonly port: number;
  /** Which process owns it: the container name in a pod, or a label. */
  readonly owner: string;
  /** For connected sockets: the remote end. */
  readonly remote?: { readonly addr: number; readonly port: number };
}

/**
 * The sockets of one namespace.
 *
 * @remarks Linux equivalent: the TCP/UDP socket hash tables; lookup prefers a connected
 * (4-tuple) socket, then a listener bound to the address, then one bound to INADDR_ANY, as
 * `__inet_lookup` / `__udp4_lib_lookup` score them.
 */
export class SocketTable {
  private readonly sockets: SimSocket[] = [];

  /** Binds a socket. @throws KnetError `EBUSY` (EADDRINUSE) when the same address and port are taken. */
  bind(s: SimSocket): void {
    const clash = this.sockets.find(
      (o) => o.proto === s.proto && o.port === s.port && o.remote === undefined && s.remote === undefined &&
        (o.addr === s.addr || o.addr === 0 || s.addr === 0),
    );
    if (clash !== undefined) {
      throw new KnetError('EBUSY', `${s.proto} port ${s.port} already in use by ${clash.owner}`, { port: s.port });
    }
    this.sockets.push(s);
  }

  /** Removes a socket. */
  close(s: SimSocket): void {
    const i = this.sockets.indexOf(s);
    if (i >= 0) this.sockets.splice(i, 1);
  }

  /** The socket that receives a packet for (proto, dst:dport) from (src:sport). */
  lookup(proto: 'tcp' | 'udp', dst: number, dport: number, src: number, sport: number): SimSocket | undefined {
    let best: SimSocket | undefined;
    let bestScore = -1;
    for (const s of this.sockets) {
      if (s.proto !== proto || s.port !== dport) continue;
      if (s.addr !== 0 && s.addr !== dst) continue;
      let score = s.addr === 0 ? 1 : 2;
      if (s.remote !== undefined) {
        if (s.remote.addr !== src || s.remote.port !== sport) continue;
        score = 4;
      }
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }

  /** True when a port is in use (for ephemeral port selection). */
  inUse(proto: 'tcp' | 'udp', port: number): boolean {
    return this.sockets.some((s) => s.proto === proto && s.port === port);
  }

  /** Every socket (what `ss -lntu` lists). */
  list(): readonly SimSocket[] {
    return this.sockets;
  }
}
