import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { assessSaturation, type Condition } from '../detect/saturation.js';
import type { Sample } from '../metrics/sample.js';
import { createOneShotSampler } from '../agent.js';
import { currentPlatform } from '../platform/platform.js';

/** How long snapshot watches between its two samples: long enough for rates and queue peaks. */
const WATCH_SECONDS = 2;

/** Samples twice, a moment apart, and prints what is exhausted or saturated now, worst first. */
export async function snapshot(config: Config, log: Logger, json: boolean): Promise<number> {
  const runtime = createOneShotSampler(config, currentPlatform(), log);
  try {
    const first = await runtime.sampler.sampleOnce();
    await sleep(WATCH_SECONDS * 1000);
    const second = await runtime.sampler.sampleOnce();
    const conditions = assessSaturation(second, first);
    const failed = second.collectors.filter((c) => c.status === 'failed');
    if (json) {
      process.stdout.write(`${JSON.stringify({ timestamp: new Date(second.timestamp).toISOString(), conditions, figures: figures(second), failed }, null, 2)}\n`);
    } else {
      process.stdout.write(renderText(conditions, second, failed));
    }
    return 0;
  } finally {
    runtime.stop();
  }
}

function figures(sample: Sample): Record<string, Array<{ labels: Record<string, string>; value: number }>> {
  const out: Record<string, Array<{ labels: Record<string, string>; value: number }>> = {};
  for (const [name, series] of sample.families) {
    if (name.startsWith('contention_collector_') || name === 'contention_host_info') continue;
    out[name] = series.map((s) => ({ labels: { ...s.labels }, value: s.value }));
  }
  return out;
}

function renderText(conditions: Condition[], sample: Sample, failed: Sample['collectors']): string {
  const lines: string[] = [];
  if (conditions.length === 0) {
    lines.push('Nothing is saturated or near a limit right now.');
  } else {
    lines.push('Saturated or near a limit now, worst first:');
    for (const c of conditions) {
      lines.push(`  ${c.severity.toUpperCase().padEnd(8)} ${c.kind.padEnd(10)} ${c.subject}: ${c.value} (threshold ${c.threshold})`);
      lines.push(`           ${c.message}`);
    }
  }
  for (const f of failed) lines.push(`  collector ${f.name} failed: ${f.error}`);
  lines.push('', 'Figures:');
  for (const [name, series] of Object.entries(figures(sample))) {
    for (const s of series) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`).join(',');
      lines.push(`  ${name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
