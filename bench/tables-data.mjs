/**
 * The tables of `npm run bench -- tables` (bench/tables.ts), in plain JavaScript so that the
 * memory children can run without tsx: `node bench/tables-data.mjs raw|littlepipes ROWS DIR`
 * builds the 8-column table, stores it by one path, and prints its peak RSS as JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as arrow from 'apache-arrow';

const DAY = 86_400_000;
const START = Date.UTC(2020, 0, 1);
const CATEGORIES = ['north', 'south', 'east', 'west', 'central', 'online', 'partner', 'other'];

/**
 * An apache-arrow Table of `rows` rows and 8 columns: int32, float64, int64 (bigint), bool,
 * utf8, dictionary utf8, date (DateMillisecond) and timestamp (TimestampMillisecond). Built from
 * typed arrays and byte buffers (Arrow's builders take seconds for a million strings).
 */
export function buildArrowTable(rows) {
  const ints = new Int32Array(rows);
  const doubles = new Float64Array(rows);
  const bigints = new BigInt64Array(rows);
  const flags = new Uint8Array((rows + 7) >> 3);
  const offsets = new Int32Array(rows + 1);
  const text = Buffer.allocUnsafe(rows * 16 + 16);
  const regions = new Int32Array(rows);
  const days = new BigInt64Array(rows);
  const stamps = new BigInt64Array(rows);
  let at = 0;
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < rows; i++) {
    ints[i] = i;
    doubles[i] = random() * 1000;
    bigints[i] = BigInt(i) * 1_000_003n;
    if (i % 3 === 0) flags[i >> 3] |= 1 << (i & 7);
    at += text.write(`customer-${i}`, at, 'latin1');
    offsets[i + 1] = at;
    regions[i] = i % CATEGORIES.length;
    days[i] = BigInt(START + (i % 3650) * DAY);
    stamps[i] = BigInt(START + i * 1000);
  }
  return new arrow.Table({
    id: arrow.makeVector(ints),
    amount: arrow.makeVector(doubles),
    big: arrow.makeVector(bigints),
    flag: arrow.makeVector(arrow.makeData({ type: new arrow.Bool(), length: rows, nullCount: 0, data: flags })),
    name: arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: rows, nullCount: 0, valueOffsets: offsets, data: text.subarray(0, at) })),
    region: arrow.makeVector(arrow.makeData({
      type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
      length: rows,
      nullCount: 0,
      data: regions,
      dictionary: arrow.vectorFromArray(CATEGORIES, new arrow.Utf8()),
    })),
    day: arrow.makeVector(arrow.makeData({ type: new arrow.DateMillisecond(), length: rows, nullCount: 0, data: days })),
    at: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMillisecond(), length: rows, nullCount: 0, data: stamps })),
  });
}

/** Rows for the memory children: about 100 MB of Arrow IPC (59 bytes a row). */
export const MEMORY_ROWS = 1_700_000;

async function child(mode, rows, folder) {
  const table = buildArrowTable(rows);
  const built = process.resourceUsage().maxRSS;
  if (mode === 'raw') {
    await fs.promises.writeFile(path.join(folder, 'raw.arrow'), arrow.tableToIPC(table, 'stream'));
  } else {
    const dist = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js')).href;
    const { Pipeline, Task } = await import(dist);
    const pipeline = new Pipeline('Tables', { cacheDir: folder, project: 'bench', logLevel: 'silent' });
    pipeline.add(new Task('Table').process('run', () => table));
    const report = await pipeline.execute({ progress: false });
    if (report.task('Table')?.status !== 'ran') throw new Error('the task did not run');
    await pipeline.close();
  }
  // maxRSS is in kilobytes.
  process.stdout.write(JSON.stringify({ builtKb: built, peakKb: process.resourceUsage().maxRSS, ipcBytes: mode === 'raw' ? fs.statSync(path.join(folder, 'raw.arrow')).size : undefined }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [mode, rows, folder] = process.argv.slice(2);
  if ((mode !== 'raw' && mode !== 'littlepipes') || !rows || !folder) {
    console.error('usage: node bench/tables-data.mjs raw|littlepipes ROWS FOLDER');
    process.exit(2);
  }
  await child(mode, Number(rows), folder);
}
