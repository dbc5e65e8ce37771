import { describe, expect, it } from 'vitest';
import { formatLabCheckJson, formatLabCheckText } from './format-lab-check.js';
import type { LabCheckResult, LabProbeResult } from './lab-check.js';

const r = (from: string, to: string, o: Partial<LabProbeResult> = {}, withPort = true): LabProbeResult => ({
  id: 0,
  kind: to.startsWith('svc/') ? 'service' : 'pod',
  from,
  fromNetns: `knet-x-pod-${from.replace('/', '-')}`,
  to,
  proto: 'tcp',
  ip: to === 'default/b' ? '10.244.0.3' : to === 'default/a' ? '10.244.0.2' : '10.96.0.1',
  ...(withPort ? { port: 80 } : {}),
  predicted: { outcomes: ['connected'], paths: 1 },
  real: 'connected',
  realDetail: 'connected',
  agree: true,
  ...o,
});

const check: LabCheckResult = {
  lab: 'x',
  elapsedMs: 1234,
  deadEchoServers: [],
  disagreements: 1,
  results: [
    r('default/a', 'default/b'),
    r('default/b', 'default/a', { proto: 'icmp' }, false),
    r('default/a', 'svc/default/web:http'),
    r('default/b', 'svc/default/web:http', {
      real: 'timeout',
      realDetail: 'no answer in 2000 ms',
      predicted: { outcomes: ['connected', 'refused'], paths: 2, why: 'refused in default/a' },
      agree: false,
    }),
  ],
};

describe('formatLabCheckText', () => {
  it('prints the summary, the destinations, one matrix line per source and every disagreement', () => {
    expect(formatLabCheckText(check)).toBe(
      [
        'lab x: 2 pod pairs and 2 Service probes; 3 as the simulation predicts, 1 disagreement (1.2 s)',
        '',
        'destinations:',
        '    1 default/a  10.244.0.2 ping',
        '    2 default/b  10.244.0.3:80 tcp',
        '  S1  svc/default/web:http  10.96.0.1:80 tcp',
        '',
        '             pods  services',
        '             12    1',
        '  default/a  ·✓    ✓',
        '  default/b  ✓·    ✗',
        '  ✓ real outcome as simulated   ✗ disagreement   · the pod itself',
        '',
        'disagreements:',
        '  default/b → svc/default/web:http (tcp 10.96.0.1:80): real timeout (no answer in 2000 ms), simulated connected or refused over 2 paths; trace: refused in default/a',
        '',
      ].join('\n'),
    );
  });
});

describe('formatLabCheckJson', () => {
  it('lists every probe with both outcomes', () => {
    const j = JSON.parse(formatLabCheckJson(check)) as { probes: number; agree: number; disagreements: number; results: Record<string, unknown>[] };
    expect([j.probes, j.agree, j.disagreements]).toEqual([4, 3, 1]);
    expect(j.results[3]).toEqual({
      kind: 'service',
      from: 'default/b',
      to: 'svc/default/web:http',
      proto: 'tcp',
      ip: '10.96.0.1',
      port: 80,
      real: 'timeout',
      realDetail: 'no answer in 2000 ms',
      predicted: ['connected', 'refused'],
      paths: 2,
      why: 'refused in default/a',
      agree: false,
    });
    expect(j.results[1]).not.toHaveProperty('port');
  });
});
