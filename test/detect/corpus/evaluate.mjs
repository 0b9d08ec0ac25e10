// Prints the corpus's precision/recall table (and with --list, each series' verdicts): the figures
// in docs/detection.md. `npm run bench:corpus` builds first.
import { fileURLToPath } from 'node:url';
import { renderTable, scoreCorpus } from './score.mjs';

const result = await scoreCorpus(fileURLToPath(new URL('../../..', import.meta.url)));
if (process.argv.includes('--list')) {
  for (const r of result.rows) {
    process.stdout.write(`${r.ok.detector ? ' ' : 'X'}${r.ok.pal ? ' ' : 'P'} ${r.label.padEnd(8)} ${r.name.padEnd(46)} ${String(r.detector).padEnd(28)} PAL ${r.pal}\n`);
  }
}
process.stdout.write(`${result.rows.length} series (${result.rows.filter((r) => r.label === 'leak').length} leaking)\n\n${renderTable(result)}`);
