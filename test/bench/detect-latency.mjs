// How long the default detector takes to flag real leaks, by rate, and what it says of healthy
// look-alikes meanwhile: real node children on this host, the built agent with the shipped detection
// settings (5 s samples), criteria naming each child. Also a group whose worker leaks and is
// restarted every 90 s by a supervisor (masked by restarts). Prints a table for docs/detection.md.
//
//   npm run bench:detect-latency [-- minutes=16]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, freePort, sleep, stop } from './lib.mjs';

const minutes = Number(process.argv[2] ?? 16);
const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'ca-latency-'));
const worker = (kib) => `const h=[];setInterval(()=>h.push(Buffer.alloc(${kib}*1024,1)),1000);const p=process.ppid;setInterval(()=>{if(process.ppid!==p)process.exit(0)},500);`;
const SUBJECTS = [
  { name: 'leak-1mib-s', leak: true, rate: '1 MiB/s (3.5 GiB/h)', script: worker(1024) },
  { name: 'leak-256kib-s', leak: true, rate: '256 KiB/s (900 MiB/h)', script: worker(256) },
  { name: 'leak-64kib-s', leak: true, rate: '64 KiB/s (225 MiB/h)', script: worker(64) },
  { name: 'leak-16kib-s', leak: true, rate: '16 KiB/s (56 MiB/h)', script: worker(16) },
  { name: 'restarted-90s-1mib-s', leak: true, rate: '1 MiB/s per life, restarted every 90 s', restart: 90, script: worker(1024) },
  { name: 'restarted-90s-100kib-s', leak: true, rate: '100 KiB/s per life, restarted every 90 s', restart: 90, script: worker(100) },
  { name: 'gc-sawtooth', leak: false, rate: 'healthy: 4 MiB of garbage per 200 ms, collected every 6 s', script: `require('v8').setFlagsFromString('--expose-gc');const gc=require('vm').runInNewContext('gc');let j=[];setInterval(()=>j.push(Buffer.alloc(4*${MiB},1)),200);setInterval(()=>{j=[];gc();},6000);` },
  { name: 'warm-up', leak: false, rate: 'healthy: 150 MiB cache filled at 2.5 MiB/s', script: `const h=[];const t=setInterval(()=>{h.push(Buffer.alloc(${MiB},1));if(h.length>=150)clearInterval(t);},400);` },
  { name: 'busy', leak: false, rate: 'healthy: half a CPU allocating small objects', script: `const ws=Buffer.alloc(64*${MiB},1);setInterval(()=>{const e=Date.now()+50;let a=[];while(Date.now()<e){a.push({x:Math.random()});if(a.length>1e4)a=[];}},100);` },
  { name: 'restarted-90s-healthy', leak: false, rate: 'healthy: restarted every 90 s, flat', restart: 90, script: worker(0) },
];

const procs = [];
for (const s of SUBJECTS) {
  const file = join(dir, `${s.name}.js`);
  writeFileSync(file, s.script);
  const token = `ca-latency-${s.name}-${process.pid}`;
  s.token = token;
  if (!s.restart) {
    procs.push(spawn(process.execPath, [file, `${token}-worker`], { stdio: 'ignore' }));
  } else {
    const sup = join(dir, `${s.name}-sup.js`);
    writeFileSync(sup, `const {spawn}=require('child_process');let c;const run=()=>{c=spawn(process.execPath,[${JSON.stringify(file)},${JSON.stringify(`${token}-worker`)}],{stdio:'ignore'});};run();setInterval(()=>{c.kill('SIGKILL');run();},${s.restart * 1000});process.on('SIGTERM',()=>{c.kill('SIGKILL');process.exit(0);});`);
    procs.push(spawn(process.execPath, [sup, token], { stdio: 'ignore' }));
  }
}
const started = Date.now();
const config = join(dir, 'agent.yaml');
writeFileSync(config, `criteria:\n${SUBJECTS.map((s) => `  - name: ${s.name}\n    include: [{ cmdline: "${s.token}-worker$" }]\n`).join('')}`);
const port = await freePort();
const agent = spawn(process.execPath, [CLI, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, `--path.state-dir=${join(dir, 'state')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
let logs = '';
agent.stdout.on('data', (c) => (logs += c));
agent.stderr.on('data', (c) => (logs += c));
for (let i = 0; i < 300; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/metrics`)).ok) break;
  } catch {
    // not listening yet
  }
  await sleep(100);
}

const flagged = new Map();
const deadline = started + minutes * 60_000;
const pids = new Map(SUBJECTS.map((s, i) => [s.restart ? -1 : procs[i].pid, s.name]));
while (Date.now() < deadline) {
  let text = '';
  try {
    text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  } catch {
    // a slow scrape on a busy host: next round
  }
  for (const line of text.split('\n')) {
    const m = /^contention_leak_suspected\{([^}]*)\} 1$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const pid = Number(/\[(\d+)\]$/.exec(labels.subject)?.[1] ?? NaN);
    const name = labels.subject_kind === 'process' ? pids.get(pid) : labels.subject;
    if (name && SUBJECTS.some((s) => s.name === name) && !flagged.has(name)) flagged.set(name, { at: (Date.now() - started) / 1000, kind: labels.subject_kind });
  }
  if (SUBJECTS.filter((s) => s.leak).every((s) => flagged.has(s.name)) && Date.now() - started > 10 * 60_000) break;
  await sleep(5000);
}
const shapes = new Map([...logs.matchAll(/alertname=LeakSuspected .*?summary="process group (\S+) leaks [^"]*?(masked by restarts)?"/g)].map((m) => [m[1], m[2] ?? 'growing']));
const elapsed = (Date.now() - started) / 60_000;
process.stdout.write(`\nDefault detection settings, 5 s samples, ${elapsed.toFixed(1)} min observed (${new Date().toISOString()}):\n\n| child | expected | flagged after | as |\n|---|---|---|---|\n`);
for (const s of SUBJECTS) {
  const f = flagged.get(s.name);
  const as = f ? (f.kind === 'process_group' ? `group, ${shapes.get(s.name) ?? 'growing'}` : f.kind) : '-';
  process.stdout.write(`| ${s.rate} | ${s.leak ? 'leak' : 'healthy'} | ${f ? `${Math.floor(f.at / 60)} min ${Math.round(f.at % 60)} s` : `not flagged in ${elapsed.toFixed(0)} min`} | ${as} |\n`);
}
for (const p of procs) p.kill('SIGTERM');
await stop(agent);
process.exit(0);
