/**
 * Runs the benchmarks and prints a summary of the figures and whether each target is met.
 * Usage: npm run bench [-- overhead|large|fingerprint|shared|distributed|startup|tables|html|types]
 * Figures only: nothing here fails a build.
 */
import os from 'node:os';
import { fingerprintBench } from './fingerprint.js';
import { largeResultsBench } from './large-results.js';
import { livePictureBench } from './live-picture.js';
import { distributedBench } from './distributed.js';
import { overheadBench } from './overhead.js';
import { sharedStoreBench } from './shared-store.js';
import { startupBench } from './startup.js';
import { tablesBench } from './tables.js';
import { typesBench } from './types.js';
import { type Figure, fmt } from './util.js';

const BENCHES: Record<string, (log: (line: string) => void) => Promise<Figure[]>> = {
  overhead: overheadBench,
  large: largeResultsBench,
  fingerprint: fingerprintBench,
  shared: sharedStoreBench,
  distributed: distributedBench,
  startup: startupBench,
  tables: tablesBench,
  html: livePictureBench,
  types: typesBench,
};

const filter = process.argv[2];
if (filter !== undefined && !(filter in BENCHES)) {
  console.error(`Unknown benchmark "${filter}". Choose one of: ${Object.keys(BENCHES).join(', ')} (or none for all).`);
  process.exit(2);
}

const cpus = os.cpus();
console.log(`machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, node ${process.version}, ${os.platform()} ${os.release()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`);
console.log('');

const log = (line: string) => console.log(line);
const figures: Figure[] = [];
const started = performance.now();
for (const [name, bench] of Object.entries(BENCHES)) {
  if (filter !== undefined && filter !== name) continue;
  const start = performance.now();
  figures.push(...(await bench(log)));
  log(`${name}: done in ${fmt((performance.now() - start) / 1000)} s`);
  log('');
}

const met = (figure: Figure) => (figure.max === undefined || figure.value <= figure.max) && (figure.min === undefined || figure.value >= figure.min);
const rows = figures.map((figure) => [
  figure.bench,
  figure.name,
  `${fmt(figure.value, figure.unit === 'x' ? 3 : 2)} ${figure.unit}`,
  figure.max !== undefined ? `<= ${figure.max} ${figure.unit}` : figure.min !== undefined ? `>= ${figure.min} ${figure.unit}` : '',
  figure.max === undefined && figure.min === undefined ? '' : met(figure) ? 'yes' : 'NO',
]);
const header = ['bench', 'figure (median)', 'value', 'target', 'met'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
const line = (cells: string[]) => cells.map((cell, column) => (column === 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
console.log('summary');
console.log(line(header));
console.log(line(widths.map((width) => '-'.repeat(width))));
for (const row of rows) console.log(line(row));
const targets = figures.filter((figure) => figure.max !== undefined || figure.min !== undefined);
const missed = targets.filter((figure) => !met(figure));
console.log('');
console.log(`${targets.length - missed.length}/${targets.length} targets met${missed.length > 0 ? `; missed: ${missed.map((figure) => `${figure.bench} ${figure.name}`).join('; ')}` : ''}. Total ${fmt((performance.now() - started) / 1000)} s.`);
