import { describe, expect, it } from 'vitest';
import { splitCsvLine } from '../../agent/analyze/csv-line.js';

describe('splitCsvLine', () => {
  it('splits quoted PerfMon cells, keeping commas and backslashes inside quotes', () => {
    expect(splitCsvLine('"(PDH-CSV 4.0) (UTC)(0)","\\\\H\\Process(a,b)\\Private Bytes"," "')).toEqual([
      '(PDH-CSV 4.0) (UTC)(0)',
      '\\\\H\\Process(a,b)\\Private Bytes',
      ' ',
    ]);
  });
  it('reads doubled quotes, bare cells and a trailing empty cell', () => {
    expect(splitCsvLine('"say ""hi""",12,')).toEqual(['say "hi"', '12', '']);
  });
  it('refuses an unclosed quote or junk after a closing quote', () => {
    expect(splitCsvLine('"open,1')).toBeUndefined();
    expect(splitCsvLine('"a"b,1')).toBeUndefined();
  });
});
