import { describe, expect, it } from 'vitest';
import { catalog } from '../../../agent/metrics/catalog.js';
import {
  HOST_COUNTERS,
  LIVE_HOST_COUNTERS,
  counterMeaning,
  parseCounterPath,
  parseProcessInstance,
  queryPath,
} from '../../../agent/platform/windows/counters.js';

describe('parseCounterPath', () => {
  it('splits host, object, instance and counter', () => {
    expect(parseCounterPath('\\\\WEB01\\Process(svchost#12)\\Private Bytes')).toEqual({
      host: 'WEB01', object: 'Process', instance: 'svchost#12', counter: 'Private Bytes',
    });
    expect(parseCounterPath('\\Memory\\Free System Page Table Entries')).toEqual({
      host: '', object: 'Memory', instance: '', counter: 'Free System Page Table Entries',
    });
    expect(parseCounterPath('\\PhysicalDisk(0 C:)\\Current Disk Queue Length')?.instance).toBe('0 C:');
    expect(parseCounterPath('\\\\SQL-02.corp.example.com\\Process V2(sqlservr:2748)\\Handle Count')).toMatchObject({
      host: 'SQL-02.corp.example.com', object: 'Process V2', instance: 'sqlservr:2748',
    });
  });

  it('keeps instances that carry brackets or parentheses whole', () => {
    expect(parseCounterPath('\\\\H\\Network Interface(Intel[R] Ethernet Connection [2] I219-LM)\\Bytes Total/sec')?.instance)
      .toBe('Intel[R] Ethernet Connection [2] I219-LM');
    expect(parseCounterPath('\\Process(Code (1))\\Private Bytes')?.instance).toBe('Code (1)');
  });

  it('refuses what is not a counter path', () => {
    expect(parseCounterPath('(PDH-CSV 4.0) (Pacific Standard Time)(480)')).toBeUndefined();
    expect(parseCounterPath('Memory\\Committed Bytes')).toBeUndefined();
    expect(parseCounterPath('\\Memory')).toBeUndefined();
    expect(parseCounterPath('')).toBeUndefined();
  });
});

describe('parseProcessInstance', () => {
  it('reads PDH numbering of same-named processes in Process', () => {
    expect(parseProcessInstance('Process', 'svchost')).toEqual({ name: 'svchost', index: 0 });
    expect(parseProcessInstance('Process', 'svchost#12')).toEqual({ name: 'svchost', index: 12 });
    expect(parseProcessInstance('Process', 'w3wp#1')).toEqual({ name: 'w3wp', index: 1 });
  });

  it('reads name:pid in Process V2', () => {
    expect(parseProcessInstance('Process V2', 'svchost:1234')).toEqual({ name: 'svchost', pid: 1234 });
    expect(parseProcessInstance('Process V2', 'Microsoft.Photos:10468')).toEqual({ name: 'Microsoft.Photos', pid: 10468 });
  });

  it('has no process for aggregates, Idle and wildcards', () => {
    expect(parseProcessInstance('Process', '_Total')).toBeUndefined();
    expect(parseProcessInstance('Process', 'Idle')).toBeUndefined();
    expect(parseProcessInstance('Process', '*')).toBeUndefined();
    expect(parseProcessInstance('Process V2', '_Total:0')).toBeUndefined();
    expect(parseProcessInstance('Process V2', 'Idle:0')).toBeUndefined();
    expect(parseProcessInstance('Process V2', 'svchost')).toBeUndefined();
  });
});

describe('counterMeaning', () => {
  it('maps the system counters of the field notes to the host families', () => {
    const m = (p: string) => {
      const got = counterMeaning(p);
      return got && { metric: got.metric, labels: got.labels, scale: got.scale };
    };
    expect(m('\\\\WEB01\\Memory\\Free System Page Table Entries')).toEqual({
      metric: 'contention_kernel_table_free_entries', labels: { table: 'system_ptes' }, scale: 1,
    });
    expect(m('\\\\WEB01\\Memory\\Pool Paged Bytes')).toEqual({ metric: 'contention_kernel_pool_bytes', labels: { pool: 'paged' }, scale: 1 });
    expect(m('\\\\WEB01\\Memory\\Pool Nonpaged Bytes')).toEqual({ metric: 'contention_kernel_pool_bytes', labels: { pool: 'nonpaged' }, scale: 1 });
    expect(m('\\Memory\\Committed Bytes')?.metric).toBe('contention_memory_commit_bytes');
    expect(m('\\Memory\\Commit Limit')?.metric).toBe('contention_memory_commit_limit_bytes');
    expect(m('\\Memory\\Available Bytes')).toEqual({ metric: 'contention_memory_available_bytes', labels: {}, scale: 1 });
    expect(m('\\Memory\\Available MBytes')).toEqual({ metric: 'contention_memory_available_bytes', labels: {}, scale: 1048576 });
    expect(m('\\System\\Processor Queue Length')).toEqual({ metric: 'contention_cpu_queue_length', labels: {}, scale: 1 });
    expect(m('\\Processor(_Total)\\% Processor Time')).toEqual({ metric: 'contention_cpu_utilization_ratio', labels: {}, scale: 0.01 });
    expect(m('\\\\WEB01\\PhysicalDisk(1 D: E:)\\Current Disk Queue Length')).toEqual({
      metric: 'contention_disk_queue_length', labels: { device: '1 D: E:' }, scale: 1,
    });
  });

  it('matches object and counter names whatever their case, as PDH does', () => {
    expect(counterMeaning('\\MEMORY\\free system page table entries')?.metric).toBe('contention_kernel_table_free_entries');
  });

  it('takes only the instances a family means', () => {
    expect(counterMeaning('\\PhysicalDisk(_Total)\\Current Disk Queue Length')).toBeUndefined();
    expect(counterMeaning('\\PhysicalDisk(*)\\Current Disk Queue Length')).toBeUndefined();
    expect(counterMeaning('\\Processor(3)\\% Processor Time')).toBeUndefined();
    expect(counterMeaning('\\Processor Information(0,_Total)\\% Processor Time')).toBeUndefined();
    expect(counterMeaning('\\Processor Information(_Total)\\% Processor Time')?.metric).toBe('contention_cpu_utilization_ratio');
    expect(counterMeaning('\\Memory(_Total)\\Committed Bytes')).toBeUndefined();
  });

  it('maps process counters with PDH numbering kept as the instance', () => {
    expect(counterMeaning('\\\\WEB01\\Process(svchost#12)\\Private Bytes')).toEqual({
      kind: 'process', metric: 'contention_process_private_bytes', field: 'privateBytes', scale: 1,
      labels: { name: 'svchost', instance: 'svchost#12' }, process: { name: 'svchost', index: 12 },
    });
    expect(counterMeaning('\\Process(w3wp)\\Handle Count')).toMatchObject({
      metric: 'contention_process_handles', labels: { name: 'w3wp', instance: 'w3wp' },
    });
    expect(counterMeaning('\\Process(lsass)\\Thread Count')?.metric).toBe('contention_process_threads');
    expect(counterMeaning('\\Process(sqlservr)\\Working Set')).toMatchObject({ field: 'workingSetBytes' });
    expect(counterMeaning('\\Process(sqlservr)\\Virtual Bytes')).toMatchObject({ field: 'virtualBytes' });
  });

  it('maps Process V2 counters to name and pid', () => {
    expect(counterMeaning('\\\\WEB01\\Process V2(svchost:1234)\\Private Bytes')).toMatchObject({
      metric: 'contention_process_private_bytes', labels: { name: 'svchost', pid: '1234' }, process: { name: 'svchost', pid: 1234 },
    });
  });

  it('has no meaning for process aggregates, unknown counters and unknown objects', () => {
    expect(counterMeaning('\\Process(_Total)\\Private Bytes')).toBeUndefined();
    expect(counterMeaning('\\Process(Idle)\\Thread Count')).toBeUndefined();
    expect(counterMeaning('\\Process V2(_Total:0)\\Handle Count')).toBeUndefined();
    expect(counterMeaning('\\Process(svchost)\\% Processor Time')).toBeUndefined();
    expect(counterMeaning('\\Memory\\Page Faults/sec')).toBeUndefined();
    expect(counterMeaning('\\Speicher\\Zugesicherte Bytes')).toBeUndefined();
  });
});

describe('the table', () => {
  it('names only families of the catalogue, with their labels', () => {
    for (const c of HOST_COUNTERS) {
      const def = catalog[c.family.metric];
      const labels = Object.keys(c.family.labels).sort();
      expect(labels).toEqual([...def.labels].sort());
      if (c.instances === 'each') expect(def.labels).toContain(c.label);
    }
  });

  it('gives the live collector English wildcard and _Total paths, only for what it reads through PDH', () => {
    expect(LIVE_HOST_COUNTERS.map(queryPath)).toEqual(['\\Processor(_Total)\\% Processor Time', '\\PhysicalDisk(*)\\Current Disk Queue Length']);
  });

  it('keeps the counters the agent reads from kernel calls for PerfMon logs and the Windows cross-check', () => {
    const kernelRead = HOST_COUNTERS.filter((c) => !c.live && (c.object === 'Memory' || c.counter === 'Processor Queue Length')).map(queryPath);
    expect(kernelRead).toEqual([
      '\\Memory\\Free System Page Table Entries',
      '\\Memory\\Pool Paged Bytes',
      '\\Memory\\Pool Nonpaged Bytes',
      '\\Memory\\Committed Bytes',
      '\\Memory\\Commit Limit',
      '\\Memory\\Available Bytes',
      '\\Memory\\Available KBytes',
      '\\Memory\\Available MBytes',
      '\\System\\Processor Queue Length',
    ]);
  });

  it('reads back every path it adds', () => {
    for (const c of LIVE_HOST_COUNTERS) {
      const path = queryPath(c).replace('(*)', '(0 C:)');
      expect(counterMeaning(path)?.metric).toBe(c.family.metric);
    }
  });
});
