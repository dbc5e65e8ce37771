import { parseArgs } from 'node:util';
import { EXAMPLE_CLUSTER_YAML, formatKnetError, isKnetError } from '@knet/core';
import { UsageError } from './cli-error.js';
import { LAB_USAGE, labCommand } from './commands/lab-command.js';
import { REACH_USAGE, reachCommand } from './commands/reach-command.js';
import { renderCommand } from './commands/render-command.js';
import { showCommand } from './commands/show-command.js';
import { traceCommand } from './commands/trace-command.js';
import { validateCommand } from './commands/validate-command.js';

const USAGE = `knet — Kubernetes cluster networking, simulated and real

usage:
  knet example                                  print the embedded example cluster (YAML)
  knet trace SRC DST[:PORT] [--proto tcp|udp|icmp] [-f FILE ...] [--cni NAME]
             [--at NODE] [--all-paths] [--summary] [-o text|json] [--pcap FILE] [--count N] [--seed N]
                                                trace a packet hop by hop (and its reply)
  knet show NODE|NS/POD [link|addr|route|neigh|fdb|iptables|ipset|conntrack]
             [-f FILE ...] [-o text|json]       what ip/bridge/iptables-save/ipset/conntrack print there
  knet render kube-proxy --mode iptables [--node NAME] [-f FILE ...]
                                                kube-proxy's iptables-restore payload for a node
  knet validate -f FILE ...                     load and validate manifests
${REACH_USAGE}${LAB_USAGE}
endpoints: NS/POD, POD (namespace default), NS/POD:CONTAINER, node/NAME, svc/NS/NAME[:PORT]
(the Service's ClusterIP; PORT is a port name or number), or an IPv4 address (a ClusterIP,
NodeIP:NodePort, load-balancer or external IP; as a source, a client outside the cluster, or
one entering at --at NODE).
Without -f, commands use the embedded example cluster (see "knet example").
Options: --debug prints stack traces; -h, --help prints this.
`;

/** Result of running the CLI: what to print and the exit status. */
export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/**
 * Runs the knet CLI on an argument vector (without `node` and the script).
 * Exit status: 0 success, 1 bad input (one line naming the file, document and field), 2 usage.
 */
export async function runCli(argv: readonly string[]): Promise<CliResult> {
  const debug = argv.includes('--debug');
  try {
    return await dispatch(argv.filter((a) => a !== '--debug'));
  } catch (e) {
    if (e instanceof UsageError) return { stdout: '', stderr: `knet: ${e.message}\nRun "knet --help" for usage.\n`, code: 2 };
    if (isKnetError(e)) return { stdout: '', stderr: `knet: ${formatKnetError(e)}\n${debug ? `${e.stack}\n` : ''}`, code: 1 };
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      return { stdout: '', stderr: `knet: ${e.message}\nRun "knet --help" for usage.\n`, code: 2 };
    }
    return { stdout: '', stderr: `knet: internal error: ${(e as Error).message}\n${debug ? `${(e as Error).stack}\n` : ''}`, code: 70 };
  }
}

async function dispatch(argv: readonly string[]): Promise<CliResult> {
  const [command, ...rest] = argv;
  const ok = (stdout: string, stderr = ''): CliResult => ({ stdout, stderr, code: 0 });
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') return ok(USAGE);
  const common = {
    file: { type: 'string', short: 'f', multiple: true },
    cni: { type: 'string' },
    output: { type: 'string', short: 'o', default: 'text' },
    seed: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  const seedOf = (s: string): number => {
    if (!/^\d+$/.test(s)) throw new UsageError(`--seed must be a non-negative integer, not "${s}"`);
    return Number(s);
  };
  switch (command) {
    case 'example': {
      parseArgs({ args: [...rest], options: {}, allowPositionals: false, strict: true });
      return ok(EXAMPLE_CLUSTER_YAML);
    }
    case 'trace': {
      const { values, positionals } = parseArgs({
        args: [...rest],
        options: {
          ...common,
          proto: { type: 'string' },
          pcap: { type: 'string' },
          count: { type: 'string', default: '1' },
          at: { type: 'string' },
          'all-paths': { type: 'boolean', default: false },
          summary: { type: 'boolean', default: false },
        },
        allowPositionals: true,
        strict: true,
      });
      if (values.help === true) return ok(USAGE);
      if (positionals.length !== 2) throw new UsageError('trace needs SRC and DST');
      const r = await traceCommand({
          src: positionals[0]!,
          dst: positionals[1]!,
          ...(values.proto !== undefined ? { proto: values.proto } : {}),
          files: values.file ?? [],
          ...(values.cni !== undefined ? { cni: values.cni } : {}),
          output: values.output,
          ...(values.pcap !== undefined ? { pcap: values.pcap } : {}),
          count: /^\d+$/.test(values.count) ? Number(values.count) : NaN,
          seed: seedOf(values.seed),
          ...(values.at !== undefined ? { at: values.at } : {}),
          allPaths: values['all-paths'],
          summary: values.summary,
        });
      return ok(r.out, r.err);
    }
    case 'show': {
      const { values, positionals } = parseArgs({ args: [...rest], options: common, allowPositionals: true, strict: true });
      if (values.help === true) return ok(USAGE);
      if (positionals.length < 1 || positionals.length > 2) throw new UsageError('show needs NODE|NS/POD and optionally link|addr|route|neigh|fdb');
      const r = await showCommand({
          target: positionals[0]!,
          object: positionals[1] ?? 'addr',
          files: values.file ?? [],
          ...(values.cni !== undefined ? { cni: values.cni } : {}),
          output: values.output,
          seed: seedOf(values.seed),
        });
      return ok(r.out, r.err);
    }
    case 'render': {
      const { values, positionals } = parseArgs({
        args: [...rest],
        options: { file: common.file, help: common.help, mode: { type: 'string', default: 'iptables' }, node: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      if (values.help === true) return ok(USAGE);
      if (positionals.length !== 1) throw new UsageError('render needs a component: kube-proxy');
      const r = renderCommand({ component: positionals[0]!, mode: values.mode, ...(values.node !== undefined ? { node: values.node } : {}), files: values.file ?? [] });
      return ok(r.out, r.err);
    }
    case 'reach': {
      const { values, positionals } = parseArgs({
        args: [...rest],
        options: {
          file: common.file,
          help: common.help,
          output: { type: 'string', short: 'o', default: 'table' },
          port: { type: 'string' },
          proto: { type: 'string' },
          namespace: { type: 'string', short: 'n' },
          explain: { type: 'boolean', default: false },
        },
        allowPositionals: true,
        strict: true,
      });
      if (values.help === true) return ok(USAGE);
      if (values.explain && positionals.length !== 2) throw new UsageError('reach --explain needs SRC and DST');
      if (!values.explain && positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (files go after -f; use --explain SRC DST for one connection)`);
      const r = await reachCommand({
        files: values.file ?? [],
        output: values.explain && values.output === 'table' ? 'text' : values.output,
        ...(values.port !== undefined ? { port: values.port } : {}),
        ...(values.proto !== undefined ? { proto: values.proto } : {}),
        ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
        ...(values.explain ? { explain: [positionals[0]!, positionals[1]!] as const } : {}),
      });
      return ok(r.out, r.err);
    }
    case 'validate': {
      const { values, positionals } = parseArgs({ args: [...rest], options: common, allowPositionals: true, strict: true });
      if (values.help === true) return ok(USAGE);
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (files go after -f)`);
      if ((values.file ?? []).length === 0) throw new UsageError('validate needs -f FILE');
      const { out, err, code } = await validateCommand(values.file ?? [], values.cni);
      return { stdout: out, stderr: err, code };
    }
    case 'lab':
      return labCommand(rest);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** True when this module is the process's entry point (not imported by a test). */
function isMain(): boolean {
  const entry = process.argv[1] ?? '';
  return /knet(\.js)?$/.test(entry) || entry.endsWith('/dist/knet.js');
}

if (isMain()) {
  // `knet trace ... | head`: a closed pipe ends the output quietly, as Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  runCli(process.argv.slice(2)).then(
    (r) => {
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.code;
    },
    (e: unknown) => {
      process.stderr.write(`knet: internal error: ${String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
