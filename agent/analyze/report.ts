import type { Examined, Finding } from './judge.js';

/** The human report: findings worst first with their evidence and advice, then what was judged healthy. */
export function renderReport(file: string, findings: readonly Finding[], healthy: readonly Examined[], ignored: readonly string[], opts: { verbose: boolean } = { verbose: false }): string {
  const lines: string[] = [];
  if (findings.length === 0) {
    lines.push(`${file}: no leak, exhaustion or saturation found.`);
  } else {
    lines.push(`${file}: ${findings.length} finding${findings.length === 1 ? '' : 's'}, worst first`, '');
    for (const f of findings) {
      lines.push(`${f.severity.toUpperCase()} ${f.finding}: ${f.counter}`);
      lines.push(`  ${f.message}`);
      const evidence = Object.entries(f.evidence).map(([k, v]) => `${k}=${v}`).join('  ');
      lines.push(`  evidence: ${evidence}`, '');
    }
  }
  if (healthy.length > 0 && !opts.verbose) {
    lines.push(`Judged healthy: ${healthy.length} series${healthy.length <= 3 ? ` (${healthy.map((h) => h.instance || h.counter).join(', ')})` : ''}; --verbose lists them with their range.`);
  } else if (healthy.length > 0) {
    lines.push('Examined and judged healthy:');
    const width = Math.min(90, Math.max(...healthy.map((h) => h.counter.length)));
    for (const h of healthy) lines.push(`  ${h.counter.padEnd(width)}  ${h.summary}`);
  }
  if (ignored.length > 0 && opts.verbose) {
    lines.push('', `Not examined (${ignored.length} counters the agent has no meaning for):`);
    for (const name of ignored.slice(0, 20)) lines.push(`  ${name}`);
    if (ignored.length > 20) lines.push(`  ... and ${ignored.length - 20} more`);
  } else if (ignored.length > 0) {
    lines.push(`Not examined: ${ignored.length} counter${ignored.length === 1 ? '' : 's'} the agent has no meaning for.`);
  }
  return `${lines.join('\n')}\n`;
}
