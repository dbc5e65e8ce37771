import { parseArgs } from 'node:util';
import { KnetError } from '@knet/core';
import { UsageError } from '../cli-error.js';
import { formatLabCheckJson, formatLabCheckText } from '../lab/format-lab-check.js';
import { labCheck } from '../lab/lab-check.js';
import { removeLab } from '../lab/lab-down.js';
import { labExec, labTargetNetns } from '../lab/lab-exec.js';
import { parseLabName } from '../lab/lab-name.js';
import { streamProgress } from '../lab/lab-progress.js';
import { listLabNames, readLabState, type LabState } from '../lab/lab-state.js';
import { formatLabStatusText, labStatus, type LabStatus } from '../lab/lab-status.js';
import { labClusterState, labManifests, labUp } from '../lab/lab-up.js';

/** What a lab subcommand prints and its exit status. */
export interface LabCommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Usage of `knet lab`, for the CLI's help. */
export const LAB_USAGE = `  knet lab up [-f FILE ...] [--name NAME]       build the cluster for real in network namespaces
                                                knet-NAME-... (root, Linux), echo servers in the pods
  knet lab status [--name NAME] [-o text|json]  its namespaces and echo servers
  knet lab exec NS/POD|node/NAME [--name NAME] -- CMD ...
                                                run a command inside a lab namespace
  knet lab check [--name NAME] [-o text|json]   probe every pod pair and Service for real and compare
                                                with the simulation (exit 1 on a disagreement)
  knet lab down [--name NAME | --all]           remove a lab (also after a crashed "lab up")
`;

/** The name of the KnetCluster the embedded example declares: the default lab name. */
const EXAMPLE_LAB = 'example';

/**
 * Which lab a command means: `--name`, else the KnetCluster name of the `-f` files, else the
 * only lab with a state file; with none, `fallback` (if given).
 */
function pickLab(name: string | undefined, files: readonly string[], fallback?: string): string {
  if (name !== undefined) return parseLabName(name);
  if (files.length > 0) return labClusterState(labManifests(files)).cluster.name;
  const labs = listLabNames();
  if (labs.length === 1) return labs[0]!;
  if (labs.length > 1) throw new UsageError(`several labs are up (${labs.join(', ')}): pass --name`);
  if (fallback !== undefined) return fallback;
  throw new KnetError('ENOENT', 'no lab is up (start one with "knet lab up")');
}

function mustRead(name: string): LabState {
  const s = readLabState(name);
  if (s === undefined) throw new KnetError('ENOENT', `no lab "${name}" (no state file; "knet lab status" lists labs)`, { lab: name });
  if (s.status !== 'up') throw new KnetError('EBUSY', `lab "${name}" is not up yet (status ${s.status}): wait for "lab up", or remove it with "knet lab down --name ${name}"`, { lab: name });
  return s;
}

/**
 * `knet lab up|status|exec|check|down`: the real dataplane (see docs/guides/lab.md). Progress
 * of `up` goes to standard error as it happens; `exec` passes its command's output through.
 */
export async function labCommand(argv: readonly string[]): Promise<LabCommandResult> {
  const [sub, ...rest0] = argv;
  const dash = rest0.indexOf('--');
  const rest = dash >= 0 ? rest0.slice(0, dash) : rest0;
  const command = dash >= 0 ? rest0.slice(dash + 1) : [];
  if (dash >= 0 && sub !== 'exec') throw new UsageError(`"--" only goes with "lab exec"`);
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      name: { type: 'string' },
      output: { type: 'string', short: 'o', default: 'text' },
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const files = values.file ?? [];
  if (values.help === true || sub === undefined) return { stdout: `usage:\n${LAB_USAGE}`, stderr: '', code: 0 };
  if (values.output !== 'text' && values.output !== 'json') throw new UsageError(`-o must be text or json, not "${values.output}"`);
  if (values.all && sub !== 'down') throw new UsageError('--all only goes with "lab down"');
  const noPositionals = (): void => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]!}"`);
  };

  switch (sub) {
    case 'up': {
      noPositionals();
      const r = await labUp({ files, ...(values.name !== undefined ? { name: values.name } : {}), progress: streamProgress(process.stderr) });
      const s = r.state;
      const pods = s.pods.filter((p) => !p.hostNetwork).length;
      return {
        stdout:
          `lab ${s.name} is up in ${(r.elapsedMs / 1000).toFixed(1)} s: ${Object.keys(s.nodes).length} nodes, ${pods} pod namespaces, ` +
          `${s.echoServers.length} echo servers, CNI ${s.cni}, kube-proxy ${s.kubeProxy} (namespaces ${s.prefix}*)\n` +
          `next: knet lab check --name ${s.name}; knet lab exec --name ${s.name} NS/POD -- CMD; knet lab down --name ${s.name}\n`,
        stderr: '',
        code: 0,
      };
    }
    case 'status': {
      noPositionals();
      const names = values.name !== undefined ? [parseLabName(values.name)] : files.length > 0 ? [pickLab(undefined, files)] : listLabNames();
      const labs = names.map(labStatus).filter((l): l is LabStatus => l !== undefined);
      if (values.name !== undefined && labs.length === 0) throw new KnetError('ENOENT', `no lab "${values.name}" (no state file, no namespace knet-${values.name}-*)`, { lab: values.name });
      return { stdout: values.output === 'json' ? `${JSON.stringify(labs, null, 2)}\n` : formatLabStatusText(labs), stderr: '', code: 0 };
    }
    case 'exec': {
      if (positionals.length !== 1) throw new UsageError('lab exec needs one target: NS/POD, node/NAME, fabric or outside');
      if (dash < 0 || command.length === 0) throw new UsageError('lab exec needs a command after "--" (knet lab exec NS/POD -- CMD ...)');
      const state = mustRead(pickLab(values.name, files));
      const netns = labTargetNetns(state, positionals[0]!);
      const r = await labExec(state, netns, command, { inherit: process.stdout.isTTY === true });
      return { stdout: r.stdout, stderr: r.stderr, code: r.code };
    }
    case 'check': {
      noPositionals();
      const state = mustRead(pickLab(values.name, files));
      const r = await labCheck(state);
      return { stdout: values.output === 'json' ? formatLabCheckJson(r) : formatLabCheckText(r), stderr: '', code: r.disagreements > 0 ? 1 : 0 };
    }
    case 'down': {
      noPositionals();
      if (values.all && (values.name !== undefined || files.length > 0)) throw new UsageError('--all removes every lab: drop --name and -f');
      const names = values.all ? listLabNames() : [pickLab(values.name, files, EXAMPLE_LAB)];
      const lines: string[] = [];
      for (const n of names) {
        const r = await removeLab(n);
        lines.push(
          r.namespaces.length === 0 && !r.hadState
            ? `lab ${n}: nothing to remove`
            : `lab ${n}: removed ${r.namespaces.length} namespaces${r.echoServersStopped > 0 ? `, stopped ${r.echoServersStopped} echo servers` : ''}${r.hadState ? '' : ' (there was no state file)'}` +
                (r.spared.length > 0 ? `; left ${r.spared.length} namespaces of other labs alone` : ''),
        );
      }
      if (names.length === 0) lines.push('no lab recorded: nothing to remove (a lab without a state file: knet lab down --name NAME)');
      return { stdout: `${lines.join('\n')}\n`, stderr: '', code: 0 };
    }
    default:
      throw new UsageError(`unknown lab command "${sub}" (up, status, exec, check, down)`);
  }
}
