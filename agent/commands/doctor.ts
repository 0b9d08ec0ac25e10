import type { Config } from '../config/schema.js';
import { assessCaptureReadiness } from '../capture/doctor.js';
import { allRequiredReady, type Check } from '../capture/verdict.js';

/** Says whether this host could capture what an investigation needs; exit 0 when every required check is ready, 1 otherwise. */
export async function doctor(config: Config, json: boolean): Promise<number> {
  const checks = await assessCaptureReadiness(config);
  const ok = allRequiredReady(checks);
  if (json) process.stdout.write(`${JSON.stringify({ ready: ok, checks }, null, 2)}\n`);
  else process.stdout.write(renderChecks(checks, ok));
  return ok ? 0 : 1;
}

const LABEL: Record<Check['verdict'], string> = { ready: 'READY', not_ready: 'NOT READY', unknown: 'UNKNOWN' };

export function renderChecks(checks: readonly Check[], ok: boolean): string {
  const lines = [ok ? 'This host can capture what an investigation needs.' : 'This host cannot capture everything an investigation needs:', ''];
  for (const c of checks) {
    lines.push(`  ${LABEL[c.verdict].padEnd(9)} ${c.kind}${c.required ? '' : ' (advisory)'}`);
    lines.push(`            ${c.reason}`);
    if (c.fix) lines.push(`            fix: ${c.fix}`);
  }
  return `${lines.join('\n')}\n`;
}
