// Records the corpus's series from real children: each scenario is a real node process (or a
// supervisor restarting one) that leaks or behaves, sampled through the agent's own process reader
// (dist/, so `npm run build` first) at the agent's default interval. The recorded series are what
// the running agent would have seen of them; the corpus test replays them through the detector.
//
//   node test/detect/corpus/record-children.mjs [minutes=12] [interval_s=5]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const { createProcfsSource } = await import(`${ROOT}dist/agent/process/source.js`);
const minutes = Number(process.argv[2] ?? 12);
const intervalS = Number(process.argv[3] ?? 5);
const OUT = join(ROOT, 'test/detect/corpus/recorded');

const MiB = 1024 * 1024;
/** Each scenario: the child's script, its label, and whether a supervisor restarts it every `restartS` seconds. */
const SCENARIOS = [
  { name: 'leak-1mib-per-s', leak: true, shape: 'steady', script: `const h=[];setInterval(()=>h.push(Buffer.alloc(${MiB},1)),1000);` },
  { name: 'leak-100kib-per-s', leak: true, shape: 'steady', script: `const h=[];setInterval(()=>h.push(Buffer.alloc(100*1024,1)),1000);` },
  { name: 'leak-20kib-per-s', leak: true, shape: 'slow', script: `const h=[];setInterval(()=>h.push(Buffer.alloc(20*1024,1)),1000);` },
  {
    name: 'leak-sawtooth-rising-floor', leak: true, shape: 'sawtooth-rising',
    // Garbage of 4 MiB every 200 ms collected every 6 s, and 256 KiB a second kept.
    script: `const keep=[];let junk=[];setInterval(()=>junk.push(Buffer.alloc(4*${MiB},1)),200);setInterval(()=>{junk=[];gc();},6000);setInterval(()=>keep.push(Buffer.alloc(256*1024,1)),1000);`,
    flags: ['--expose-gc'],
  },
  {
    name: 'leak-late-onset', leak: true, shape: 'late-onset',
    script: `const h=[];setTimeout(()=>setInterval(()=>h.push(Buffer.alloc(512*1024,1)),1000),${Math.round(minutes * 0.4 * 60_000)});`,
  },
  { name: 'fd-leak-1-per-s', leak: true, shape: 'handles', script: `const fs=require('fs');const f=[];setInterval(()=>f.push(fs.openSync('/dev/null','r')),1000);` },
  {
    name: 'thread-leak-1-per-20s', leak: true, shape: 'threads',
    script: `const {Worker}=require('worker_threads');const w=[];setInterval(()=>w.push(new Worker('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)',{eval:true})),20000);`,
  },
  {
    name: 'gc-sawtooth-flat-floor', leak: false, shape: 'gc-sawtooth',
    script: `let junk=[];setInterval(()=>junk.push(Buffer.alloc(4*${MiB},1)),200);setInterval(()=>{junk=[];gc();},6000);`,
    flags: ['--expose-gc'],
  },
  {
    name: 'warmup-plateau', leak: false, shape: 'warm-up',
    script: `const h=[];const t=setInterval(()=>{h.push(Buffer.alloc(${MiB},1));if(h.length>=150)clearInterval(t);},400);`,
  },
  {
    name: 'warmup-logarithmic', leak: false, shape: 'warm-up-log',
    // A cache that fills ever more slowly: the k-th MiB after k² / 4 seconds.
    script: `const h=[];const s=Date.now();(function f(){h.push(Buffer.alloc(${MiB},1));const k=h.length;setTimeout(f,Math.max(50,((k+1)**2-k**2)*250));})();`,
  },
  {
    name: 'busy-steady', leak: false, shape: 'busy',
    // Half a CPU of work that allocates and drops small objects, with a constant working set.
    script: `const ws=Buffer.alloc(64*${MiB},1);setInterval(()=>{const e=Date.now()+50;let a=[];while(Date.now()<e){a.push({x:Math.random()});if(a.length>1e4)a=[];}},100);`,
  },
  { name: 'step-once', leak: false, shape: 'step', script: `let h;setTimeout(()=>{h=Buffer.alloc(100*${MiB},1);},${Math.round(minutes * 0.5 * 60_000)});setInterval(()=>{},1e6);` },
  { name: 'idle', leak: false, shape: 'flat', script: `setInterval(()=>{},1e6);` },
  {
    name: 'group-restarted-every-90s-leaking', leak: true, shape: 'masked-by-restarts', restartS: 90,
    script: `const h=[];setInterval(()=>h.push(Buffer.alloc(${MiB},1)),1000);`,
  },
  { name: 'group-restarted-every-90s-healthy', leak: false, shape: 'restarts-healthy', restartS: 90, script: `const b=Buffer.alloc(40*${MiB},1);setInterval(()=>{},1e6);` },
  {
    name: 'group-restarted-every-90s-gc-sawtooth', leak: false, shape: 'restarts-gc-sawtooth', restartS: 90,
    script: `let junk=[];setInterval(()=>junk.push(Buffer.alloc(4*${MiB},1)),200);setInterval(()=>{junk=[];gc();},6000);`,
    flags: ['--expose-gc'],
  },
];

const dir = mkdtempSync(join(tmpdir(), 'ca-corpus-'));
const children = [];
const start = (s) => {
  const token = `ca-corpus-${s.name}-${process.pid}`;
  const file = join(dir, `${s.name}.js`);
  writeFileSync(file, `${s.script}\n`);
  if (!s.restartS) {
    children.push(spawn(process.execPath, [...(s.flags ?? []), file, token], { stdio: 'ignore' }));
    return token;
  }
  // A supervisor that restarts its worker every restartS seconds, as a recycling policy does.
  const sup = join(dir, `${s.name}-supervisor.js`);
  writeFileSync(
    sup,
    `const {spawn}=require('child_process');let c;const run=()=>{c=spawn(process.execPath,${JSON.stringify([...(s.flags ?? []), file, token])},{stdio:'ignore'});};` +
      `run();setInterval(()=>{c.kill('SIGKILL');run();},${s.restartS * 1000});process.on('SIGTERM',()=>{c.kill('SIGKILL');process.exit(0);});`,
  );
  children.push(spawn(process.execPath, [sup, `${token}-supervisor`], { stdio: 'ignore' }));
  return token;
};
const tokens = new Map(SCENARIOS.map((s) => [s.name, start(s)]));
const source = createProcfsSource('/proc');
const recorded = new Map(SCENARIOS.map((s) => [s.name, { t: [], private_bytes: [], handles: [], threads: [], members: [], lifeStarts: [] }]));
const known = new Map();

// Let every child start before the first sample.
await new Promise((r) => setTimeout(r, 2000));
const end = Date.now() + minutes * 60_000;
for (let next = Date.now(); next < end; next += intervalS * 1000) {
  await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  const now = Date.now();
  const { rows } = await source.read();
  for (const s of SCENARIOS) {
    const token = tokens.get(s.name);
    // The worker only: its command line ends with the token (the supervisor's ends with "-supervisor").
    const members = rows.filter((r) => r.cmdline.endsWith(token));
    const rec = recorded.get(s.name);
    const keys = members.map((m) => `${m.pid}:${m.startTime}`).sort();
    const before = known.get(s.name);
    if (before && keys.some((k) => !before.includes(k))) rec.lifeStarts.push(now);
    known.set(s.name, keys);
    rec.t.push(now);
    rec.private_bytes.push(members.reduce((a, m) => a + m.privateBytes, 0));
    rec.handles.push(members.reduce((a, m) => a + m.handles, 0));
    rec.threads.push(members.reduce((a, m) => a + m.threads, 0));
    rec.members.push(members.length);
  }
}
for (const c of children) c.kill('SIGTERM');

for (const s of SCENARIOS) {
  const rec = recorded.get(s.name);
  const resource = s.shape === 'handles' ? 'handles' : s.shape === 'threads' ? 'threads' : 'private_bytes';
  const entry = {
    name: s.name,
    label: s.leak ? 'leak' : 'healthy',
    shape: s.shape,
    kind: s.restartS ? 'process_group' : 'process',
    resource,
    origin: `recorded: a real node ${process.version} child on Linux, sampled by the agent's process reader every ${intervalS} s for ${minutes} min`,
    script: s.script,
    ...(s.restartS ? { restart_every_seconds: s.restartS } : {}),
    t: rec.t.map((x) => x - rec.t[0]),
    v: rec[resource],
    life_starts: rec.lifeStarts.map((x) => x - rec.t[0]),
  };
  writeFileSync(join(OUT, `${s.name}.json`), `${JSON.stringify(entry)}\n`);
}
process.stdout.write(`recorded ${SCENARIOS.length} scenarios into ${OUT}\n`);
process.exit(0);
