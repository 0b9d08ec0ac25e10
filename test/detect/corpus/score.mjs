// Scores the agent's leak verdict and PAL's method on the labelled corpus: the synthetic PerfMon logs
// through `analyze`'s own reading and judging, the series recorded from real children through the
// verdict the running agent's detector gives. Imports the built agent (dist/): `npm run build` first.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Memory available to a leaking child when the series were recorded (MemAvailable of the recording
 * host, 2 CPUs and 24 GiB): the headroom the running agent would have judged them against.
 */
export const RECORDED_HEADROOM_BYTES = 22e9;

/**
 * PAL's leak test as its thresholds files define it: the counter's samples cut into 30 time slices,
 * the trend the mean difference of consecutive slice averages per hour; a leak above 100 MB/h of
 * private bytes (or pool, or commit) and above 100/h of handles or threads.
 */
export function palLeak(times, values, unit) {
  const t = [];
  const v = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) { t.push(times[i]); v.push(values[i]); }
  if (t.length < 30) return { leak: false, perHour: 0 };
  const slices = 30;
  const per = Math.floor(t.length / slices);
  const avgs = [];
  const mids = [];
  for (let s = 0; s < slices; s++) {
    const from = s * per;
    const to = s === slices - 1 ? t.length : from + per;
    let sum = 0;
    for (let i = from; i < to; i++) sum += v[i];
    avgs.push(sum / (to - from));
    mids.push((t[from] + t[to - 1]) / 2);
  }
  let diff = 0;
  for (let s = 1; s < slices; s++) diff += avgs[s] - avgs[s - 1];
  const sliceHours = (mids[slices - 1] - mids[0]) / (slices - 1) / 3_600_000;
  const perHour = diff / (slices - 1) / sliceHours;
  return { leak: perHour > (unit === 'bytes' ? 100e6 : 100), perHour };
}

const unitOf = (counterOrResource) => (/private bytes|pool|committed|private_bytes/i.test(counterOrResource) ? 'bytes' : 'count');

export async function scoreCorpus(root) {
  const { readPdhCsv } = await import(join(root, 'dist/agent/analyze/pdh-csv.js'));
  const { pdhTracks } = await import(join(root, 'dist/agent/analyze/pdh-tracks.js'));
  const { judgeLog } = await import(join(root, 'dist/agent/analyze/judge.js'));
  const { judgeSeries } = await import(join(root, 'dist/agent/detect/verdict.js'));
  const dir = join(root, 'test/detect/corpus');
  const rows = [];
  for (const l of JSON.parse(readFileSync(join(dir, 'perfmon/labels.json'), 'utf8'))) {
    const { tracks } = pdhTracks(await readPdhCsv(join(dir, 'perfmon', l.file)));
    const { findings } = judgeLog(tracks, { trend: (t, v, ctx) => judgeSeries(t, v, ctx), commitEnforced: true });
    const track = tracks.find((t) => t.counter === l.counter);
    if (!track) throw new Error(`${l.file}: no track ${l.counter}`);
    const found = findings.find((f) => f.counter === l.counter && f.finding === 'leak');
    const pal = palLeak(track.times, track.values, unitOf(l.counter));
    rows.push({ name: l.file.replace(/\.csv$/, ''), origin: 'synthetic PerfMon log', shape: l.shape, label: l.label, detector: found ? String(found.evidence.shape) : '-', detectorLeak: !!found, palLeak: pal.leak, pal: `${Math.round(pal.perHour)}/h` });
  }
  for (const f of readdirSync(join(dir, 'recorded')).filter((x) => x.endsWith('.json')).sort()) {
    const r = JSON.parse(readFileSync(join(dir, 'recorded', f), 'utf8'));
    const headroom = r.resource === 'private_bytes' ? RECORDED_HEADROOM_BYTES : undefined;
    const verdict = judgeSeries(r.t, r.v, { headroom, lifeStarts: r.life_starts, lifeKind: 'restart' });
    const pal = palLeak(r.t, r.v, unitOf(r.resource));
    rows.push({ name: r.name, origin: 'recorded real child', shape: r.shape, label: r.label, detector: verdict.leak ? verdict.shape : `- (${verdict.reason ?? ''})`, detectorLeak: verdict.leak, palLeak: pal.leak, pal: `${Math.round(pal.perHour)}/h` });
  }
  for (const r of rows) r.ok = { detector: r.detectorLeak === (r.label === 'leak'), pal: r.palLeak === (r.label === 'leak') };
  return { rows, detector: confusion(rows, 'detectorLeak'), pal: confusion(rows, 'palLeak') };
}

function confusion(rows, key) {
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const r of rows) {
    const leak = r.label === 'leak';
    if (r[key] && leak) c.tp++;
    else if (r[key]) c.fp++;
    else if (leak) c.fn++;
    else c.tn++;
  }
  return { ...c, precision: c.tp / Math.max(1, c.tp + c.fp), recall: c.tp / Math.max(1, c.tp + c.fn) };
}

export function renderTable(result) {
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  const line = (name, c) => `| ${name} | ${c.tp} | ${c.fp} | ${c.fn} | ${c.tn} | ${pct(c.precision)} | ${pct(c.recall)} |`;
  return [
    `| method | true pos. | false pos. | false neg. | true neg. | precision | recall |`,
    `|---|---|---|---|---|---|---|`,
    line('contention-agent', result.detector),
    line('PAL (30 slices, 100 MB/h, 100/h)', result.pal),
    line('contention-agent, recorded real children only', confusion(result.rows.filter((r) => r.origin === 'recorded real child'), 'detectorLeak')),
    line('PAL, recorded real children only', confusion(result.rows.filter((r) => r.origin === 'recorded real child'), 'palLeak')),
    '',
  ].join('\n');
}
