import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/agent.js';
import { committed, DASHBOARD_FILES } from './dashboard-json.js';

/*
 * The foundation SDK ships TypeScript types only: no JSON schema and no runtime validator in its npm
 * package. The builders are type-checked at build; this checks the committed JSON itself against
 * the same types, by compiling it as an object literal typed with them, so that excess properties,
 * wrong value types and unknown enum values in any panel's options, field config or query fail.
 */
const PRELUDE = `
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type * as table from '@grafana/grafana-foundation-sdk/table';

type IsAny<T> = 0 extends 1 & T ? true : false;
type Method = (...args: never[]) => unknown;
/** The JSON form of an SDK type: string enums as their values, marker methods dropped. */
type Json<T> = IsAny<T> extends true ? any
  : T extends string ? \`\${T}\`
  : T extends number | boolean | null | undefined ? T
  : T extends readonly (infer U)[] ? Json<U>[]
  : { [K in keyof T as T[K] extends Method ? never : K]: Json<T[K]> };

type Defaults<Custom> = Omit<Json<dashboard.FieldConfig>, 'custom'> & { custom?: Custom };
type PanelOf<Kind extends string, Options, Custom> = Omit<Json<dashboard.Panel>, 'type' | 'options' | 'fieldConfig' | 'targets'> & {
  type: Kind;
  options: Json<Options>;
  fieldConfig: { defaults: Defaults<Custom>; overrides: Json<dashboard.FieldConfigSource['overrides']> };
  targets: Json<prometheus.Dataquery>[];
};
type AnyPanel =
  | PanelOf<'stat', stat.Options, Record<string, never>>
  | PanelOf<'bargauge', bargauge.Options, Record<string, never>>
  | PanelOf<'timeseries', timeseries.Options, Json<timeseries.FieldConfig>>
  | PanelOf<'table', table.Options, Json<table.FieldConfig>>
  | Json<dashboard.RowPanel>;
type DashboardJson = Omit<Json<dashboard.Dashboard>, 'panels'> & { panels: AnyPanel[] };
`;

const options: ts.CompilerOptions = {
  strict: true, noEmit: true, skipLibCheck: true, types: [],
  target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
};
const file = join(ROOT, 'test/dashboards/__committed_dashboard__.ts');
const host = ts.createCompilerHost(options);
const { getSourceFile, fileExists, readFile } = host;
const parsed = new Map<string, ts.SourceFile | undefined>();
let source = '';
host.getSourceFile = (name, version, ...rest) => {
  if (name === file) return ts.createSourceFile(name, source, version);
  // The SDK's and the lib's declarations are parsed once for all checks.
  if (!parsed.has(name)) parsed.set(name, getSourceFile.call(host, name, version, ...rest));
  return parsed.get(name);
};
host.fileExists = (name) => name === file || fileExists.call(host, name);
host.readFile = (name) => (name === file ? source : readFile.call(host, name));
let previous: ts.Program | undefined;

/** Type errors of `json` against the SDK's dashboard types (empty when it conforms). */
function typeErrors(json: string): string[] {
  source = `${PRELUDE}\nexport const checked: DashboardJson = ${json};\n`;
  const program = (previous = ts.createProgram([file], options, host, previous));
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName === file ? 'json' : d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('the committed dashboards against the SDK\'s schema types', () => {
  it.each(DASHBOARD_FILES.map((d) => d.file))('%s conforms', (file) => {
    expect(typeErrors(committed(file))).toEqual([]);
  });

  it('rejects what does not conform: an unknown panel option, a wrong type, an unknown enum value, a query without expr', () => {
    const base = DASHBOARD_FILES.find((d) => d.file === 'host-contention.json')!.json;
    const mutated = (change: (d: any) => void): string => {
      const copy = structuredClone(base) as any;
      change(copy);
      return JSON.stringify(copy, null, 2);
    };
    const firstOf = (d: any, type: string): any => d.panels.find((p: any) => p.type === type);
    const cases: Array<[(d: any) => void, RegExp]> = [
      [(d) => (firstOf(d, 'stat').options.colourMode = 'value'), /'"colourMode"' does not exist/],
      [(d) => (firstOf(d, 'timeseries').gridPos.w = '8'), /Type 'string' is not assignable to type 'number'/],
      [(d) => (firstOf(d, 'bargauge').options.displayMode = 'fancy'), /Type '"fancy"' is not assignable/],
      [(d) => delete firstOf(d, 'stat').targets[0].expr, /Property 'expr' is missing/],
      [(d) => (firstOf(d, 'timeseries').fieldConfig.defaults.custom.lineWidht = 2), /'"lineWidht"' does not exist/],
    ];
    for (const [change, error] of cases) expect(typeErrors(mutated(change)).join('\n')).toMatch(error);
  });
});
