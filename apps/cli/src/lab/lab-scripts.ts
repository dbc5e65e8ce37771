import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The echo server every lab pod runs (`node echo-server.mjs --tcp 8080 --udp 53 ...`, started
 * with `ip netns exec POD-NS`): it accepts TCP connections on each `--tcp` port and writes back
 * what it reads, and sends each UDP datagram on a `--udp` port back to its sender. Nothing else.
 * It prints `ready` once every port is bound, and exits with a message on stderr when one cannot
 * be bound.
 */
export const ECHO_SERVER_SCRIPT = `// knet lab echo server: TCP and UDP echo on the given ports (written by knet lab up).
import net from 'node:net';
import dgram from 'node:dgram';

const tcp = [];
const udp = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const port = Number(argv[i + 1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('bad port ' + argv[i + 1]);
  if (argv[i] === '--tcp') tcp.push(port);
  else if (argv[i] === '--udp') udp.push(port);
  else throw new Error('usage: echo-server.mjs [--tcp PORT | --udp PORT]...');
}
const fail = (what) => (e) => {
  process.stderr.write('echo server: ' + what + ': ' + e.message + '\\n');
  process.exit(1);
};
let pending = tcp.length + udp.length;
const bound = () => {
  if (--pending === 0) process.stdout.write('ready\\n');
};
for (const port of tcp) {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  server.on('error', fail('tcp ' + port));
  server.listen({ port, host: '0.0.0.0', backlog: 511 }, bound);
}
for (const port of udp) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, from) => socket.send(msg, from.port, from.address));
  socket.on('error', fail('udp ' + port));
  socket.bind(port, '0.0.0.0', bound);
}
if (pending === 0) process.stdout.write('ready\\n');
`;

/**
 * The probe `knet lab check` runs inside a source namespace (`node probe.mjs < probes.json`):
 * for each probe `{ id, proto, ip, port }` a TCP connect, a UDP datagram waiting for its echo,
 * or one `ping -c1 -W1`, each ending as `connected`, `refused` (a TCP reset, an ICMP error, or
 * ping's "Unreachable") or `timeout`. Prints `[{ id, outcome, detail }]` as JSON.
 */
export const PROBE_SCRIPT = `// knet lab probe: TCP connect, UDP echo or ping from this namespace (written by knet lab check).
import net from 'node:net';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';

const input = JSON.parse(await new Promise((resolve) => {
  let s = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => (s += d));
  process.stdin.on('end', () => resolve(s));
}));
const timeoutMs = input.timeoutMs;
// ECONNREFUSED: a TCP reset or ICMP port unreachable; the others: ICMP host/net unreachable or prohibited.
const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);

function tcp(p) {
  return new Promise((resolve) => {
    const s = net.connect({ host: p.ip, port: p.port });
    const done = (outcome, detail) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ id: p.id, outcome, detail });
    };
    const timer = setTimeout(() => done('timeout', 'no answer in ' + timeoutMs + ' ms'), timeoutMs);
    s.on('connect', () => done('connected', 'connected'));
    s.on('error', (e) => done(REFUSED.has(e.code) ? 'refused' : 'timeout', e.code ?? e.message));
  });
}

function udp(p) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const done = (outcome, detail) => {
      clearTimeout(timer);
      try { s.close(); } catch {}
      resolve({ id: p.id, outcome, detail });
    };
    const timer = setTimeout(() => done('timeout', 'no answer in ' + timeoutMs + ' ms'), timeoutMs);
    s.on('message', () => done('connected', 'echo received'));
    s.on('error', (e) => done(REFUSED.has(e.code) ? 'refused' : 'timeout', e.code ?? e.message));
    s.connect(p.port, p.ip, () => s.send('knet\\n'));
  });
}

function ping(p) {
  return new Promise((resolve) => {
    execFile('ping', ['-n', '-c1', '-W1', p.ip], { timeout: timeoutMs + 2000 }, (err, stdout) => {
      if (err === null) return resolve({ id: p.id, outcome: 'connected', detail: 'echo reply' });
      const line = String(stdout).split('\\n').find((l) => /Unreachable|Prohibited/i.test(l));
      resolve(line !== undefined ? { id: p.id, outcome: 'refused', detail: line.trim() } : { id: p.id, outcome: 'timeout', detail: 'no echo reply' });
    });
  });
}

const run = { tcp, udp, icmp: ping };
const results = [];
let next = 0;
async function worker() {
  while (next < input.probes.length) {
    const p = input.probes[next++];
    results.push(await run[p.proto](p));
  }
}
await Promise.all(Array.from({ length: Math.min(input.concurrency, input.probes.length) }, worker));
process.stdout.write(JSON.stringify(results) + '\\n');
`;

/** Paths of the scripts written by {@link writeLabScripts}. */
export interface LabScripts {
  readonly echoServer: string;
  readonly probe: string;
}

/** Writes the echo server and probe scripts into `dir` (created if needed) and returns their paths. */
export function writeLabScripts(dir: string): LabScripts {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const echoServer = join(dir, 'echo-server.mjs');
  const probe = join(dir, 'probe.mjs');
  writeFileSync(echoServer, ECHO_SERVER_SCRIPT, { mode: 0o644 });
  writeFileSync(probe, PROBE_SCRIPT, { mode: 0o644 });
  return { echoServer, probe };
}
