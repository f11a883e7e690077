import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import pl from 'nodejs-polars';
import { InvalidOptionError, Task } from '../lib/index.js';
import { writeExport } from '../lib/report/export.js';
import { cli, makeProject, REPO } from './cli/project.js';
import { temporaryFolder, testPipeline } from './helpers.js';

/**
 * `littlepipes export` and `pipeline.exportResult()`: a table result, or an array of row objects,
 * written as a file that other tools open. Every file is read back by another reader than the one
 * that wrote it: DuckDB for Parquet, CSV and JSON, apache-arrow for Arrow IPC files.
 */

const AT = [1_700_000_000_123, 0, null, 1_000_000_000_000];

/** Rows in the order every exported file must keep: not sorted by any column. */
function rows(): Record<string, unknown>[] {
  return [
    { id: 3, amount: 1.5, big: 1n, flag: true, name: 'a,"b"', region: 'north', at: new Date(AT[0]!) },
    { id: 1, amount: null, big: 2n ** 62n, flag: false, name: 'é\nnew line', region: 'south', at: new Date(AT[1]!) },
    { id: 4, amount: -2.25, big: null, flag: null, name: null, region: 'north', at: null },
    { id: 2, amount: 1e9, big: -5n, flag: true, name: 'd', region: null, at: new Date(AT[3]!) },
  ];
}

function arrowTable(): arrow.Table {
  const data = rows();
  const column = (name: string) => data.map((row) => row[name]);
  return new arrow.Table({
    id: arrow.vectorFromArray(column('id'), new arrow.Int32()),
    amount: arrow.vectorFromArray(column('amount'), new arrow.Float64()),
    big: arrow.vectorFromArray(column('big'), new arrow.Int64()),
    flag: arrow.vectorFromArray(column('flag'), new arrow.Bool()),
    name: arrow.vectorFromArray(column('name'), new arrow.Utf8()),
    region: arrow.vectorFromArray(column('region'), new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    at: arrow.vectorFromArray(AT, new arrow.TimestampMillisecond('UTC')),
  });
}

/** The columns arquero and polars hold without loss: no bigints or dictionaries. */
const SIMPLE = ['id', 'amount', 'flag', 'name', 'at'];

function arqueroTable(): unknown {
  const data = rows();
  return aq.table(Object.fromEntries(SIMPLE.map((name) => [name, data.map((row) => row[name])])));
}

function polarsFrame(): pl.DataFrame {
  const data = rows();
  return pl.DataFrame({
    id: pl.Series('id', data.map((row) => row.id as number), pl.Int32),
    amount: data.map((row) => row.amount as number | null),
    flag: data.map((row) => row.flag as boolean | null),
    name: data.map((row) => row.name as string | null),
    at: pl.Series('at', data.map((row) => row.at as Date | null), pl.Datetime('ms')),
  });
}

/** The rows as every reader must give them back, each value as text, so that INTEGER and BIGINT compare alike. */
function expected(columns = Object.keys(rows()[0]!)): Record<string, unknown>[] {
  return rows().map((row) => Object.fromEntries(columns.map((name) => [name, asText(name === 'at' ? (row.at as Date | null)?.getTime() ?? null : row[name])])));
}

function asText(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof Date) return String(value.getTime());
  return String(value);
}

let duck: DuckDBConnection | undefined;
after(() => duck?.closeSync());

/** The rows DuckDB reads from an exported file, `at` as epoch milliseconds. */
async function readWithDuckDB(file: string, columns: string[]): Promise<Record<string, unknown>[]> {
  duck ??= await (await DuckDBInstance.create(':memory:')).connect();
  const reader = { '.parquet': 'read_parquet', '.csv': 'read_csv', '.json': 'read_json' }[path.extname(file).toLowerCase()];
  const list = columns.map((name) => (name === 'at' ? 'epoch_ms("at") AS "at"' : `"${name}"`)).join(', ');
  const result = await duck.runAndReadAll(`SELECT ${list} FROM ${reader}('${file.replaceAll("'", "''")}')`);
  return result.getRowObjects().map((row) => Object.fromEntries(columns.map((name) => [name, asText(row[name])])));
}

/** The rows apache-arrow reads from an exported .arrow file (timestamps are epoch milliseconds), and its schema. */
function readArrowFile(file: string): { rows: Record<string, unknown>[]; schema: string[] } {
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.subarray(0, 6).toString(), 'ARROW1', `${file} is an Arrow IPC file, not a stream`);
  const table = arrow.tableFromIPC(bytes);
  return {
    rows: table.toArray().map((row) => Object.fromEntries(Object.entries(row.toJSON()).map(([name, value]) => [name, asText(value)]))),
    schema: table.schema.fields.map((field) => `${field.name}: ${String(field.type)}`),
  };
}

/** Writes `value` to every format and checks each file read back. */
async function exportsToEveryFormat(value: unknown, columns: string[]): Promise<string[]> {
  const folder = temporaryFolder();
  for (const extension of ['.parquet', '.csv', '.json']) {
    const file = path.join(folder, `out${extension}`);
    await writeExport(value, file, 'test', 'T');
    assert.deepEqual(await readWithDuckDB(file, columns), expected(columns), `${extension}: the values and the row order`);
  }
  const file = path.join(folder, 'out.arrow');
  await writeExport(value, file, 'test', 'T');
  const read = readArrowFile(file);
  assert.deepEqual(read.rows, expected(columns), '.arrow: the values and the row order');
  assert.deepEqual(fs.readdirSync(folder).sort(), ['out.arrow', 'out.csv', 'out.json', 'out.parquet'], 'no temporary file is left behind');
  return read.schema;
}

test('an apache-arrow Table exports to .parquet, .csv and .json that DuckDB reads, and to an .arrow file with its schema', async () => {
  const schema = await exportsToEveryFormat(arrowTable(), Object.keys(rows()[0]!));
  assert.deepEqual(schema, arrowTable().schema.fields.map((field) => `${field.name}: ${String(field.type)}`));
});

test('an arquero table exports to every format with its values and row order', async () => {
  await exportsToEveryFormat(arqueroTable(), SIMPLE);
});

test('a nodejs-polars DataFrame exports to every format with its values and row order', async () => {
  const schema = await exportsToEveryFormat(polarsFrame(), SIMPLE);
  assert.match(schema.find((line) => line.startsWith('at:'))!, /^at: Timestamp<MILLISECOND/);
});

test('an array of row objects exports to every format: bigints exact, dates as timestamps, nulls as nulls', async () => {
  await exportsToEveryFormat(rows(), Object.keys(rows()[0]!));
  const folder = temporaryFolder();
  await writeExport(rows(), path.join(folder, 'rows.csv'), 'test', 'T');
  const csv = fs.readFileSync(path.join(folder, 'rows.csv'), 'utf8').split('\n');
  assert.equal(csv[0], 'id,amount,big,flag,name,region,at', 'a header row');
  assert.equal(csv[1], '3,1.5,1,true,"a,""b""",north,2023-11-14T22:13:20.123Z', 'booleans as true/false, dates as ISO 8601, quotes doubled');
  await writeExport(rows(), path.join(folder, 'rows.json'), 'test', 'T');
  const json = fs.readFileSync(path.join(folder, 'rows.json'), 'utf8');
  assert.match(json, /"big":4611686018427387904,/, 'a bigint as a JSON number with every digit');
  assert.equal((JSON.parse(json) as unknown[]).length, 4);
});

test('the extension chooses the format in any case: OUT.PARQUET is Parquet, Out.Csv is CSV', async () => {
  const folder = temporaryFolder();
  await writeExport(rows(), path.join(folder, 'OUT.PARQUET'), 'test', 'T');
  assert.equal(fs.readFileSync(path.join(folder, 'OUT.PARQUET')).subarray(0, 4).toString(), 'PAR1');
  await writeExport(rows(), path.join(folder, 'Out.Csv'), 'test', 'T');
  assert.deepEqual(await readWithDuckDB(path.join(folder, 'Out.Csv'), ['id', 'name']), expected(['id', 'name']));
});

test('exportResult() refuses what it cannot write with an InvalidOptionError in API words, and writes nothing', async () => {
  const folder = temporaryFolder();
  const pipeline = testPipeline('Exports').add(
    new Task('Totals').process('run', () => new Map([['north', 17]])),
    new Task('Rows').process('run', () => rows()),
    new Task('Empty').process('run', () => []),
  );
  await pipeline.execute({ progress: false });
  await assert.rejects(pipeline.exportResult('Totals', path.join(folder, 'totals.csv')), (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError);
    assert.equal(error.message, 'exportResult(): the result of Totals is Map of 1 entry, not a table. Export writes apache-arrow Tables, arquero tables, nodejs-polars DataFrames and arrays of row objects (plain objects, one per row).');
    return true;
  });
  await assert.rejects(pipeline.exportResult('Empty', path.join(folder, 'empty.csv')), /exportResult\(\): the result of Empty is an empty array, which has no columns to write/);
  await assert.rejects(pipeline.exportResult('Rows', path.join(folder, 'rows.xlsx')), (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError);
    assert.match(error.message, /^exportResult\(\): cannot tell the format of ".*rows\.xlsx" from its extension "\.xlsx"\. Name the file with one of \.arrow \(Arrow IPC file\), \.parquet \(Parquet\), \.csv/);
    return true;
  });
  const missing = path.join(folder, 'no-such-folder');
  await assert.rejects(pipeline.exportResult('Rows', path.join(missing, 'rows.csv')), new RegExp(`^InvalidOptionError: exportResult\\(\\): the folder ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not exist\\. Create it, or write the file elsewhere\\.$`));
  await assert.rejects(pipeline.exportResult('Rowz', path.join(folder, 'rows.csv')), /Did you mean "Rows"\?/);
  assert.deepEqual(fs.readdirSync(folder), [], 'nothing written');
  assert.equal(fs.existsSync(missing), false, 'no folder created');
});

test('pipeline.exportResult() writes cached tables and rows, read back from the cache as the classes they were', async () => {
  const folder = temporaryFolder();
  const pipeline = testPipeline('Exports').add(
    new Task('Arrow').process('run', () => arrowTable()),
    new Task('Arquero').process('run', () => arqueroTable()),
    new Task('Polars').process('run', () => polarsFrame()),
    new Task('Rows').process('run', () => rows()),
  );
  await pipeline.execute({ progress: false });
  await pipeline.exportResult('Arrow', path.join(folder, 'arrow.parquet'));
  assert.deepEqual(await readWithDuckDB(path.join(folder, 'arrow.parquet'), Object.keys(rows()[0]!)), expected());
  await pipeline.exportResult('Arquero', path.join(folder, 'arquero.json'));
  assert.deepEqual(await readWithDuckDB(path.join(folder, 'arquero.json'), SIMPLE), expected(SIMPLE));
  await pipeline.exportResult('Polars', path.join(folder, 'polars.csv'));
  assert.deepEqual(await readWithDuckDB(path.join(folder, 'polars.csv'), SIMPLE), expected(SIMPLE));
  await pipeline.exportResult('Rows', path.join(folder, 'rows.arrow'));
  assert.deepEqual(readArrowFile(path.join(folder, 'rows.arrow')).rows, expected());
});

/** A project whose pipeline returns an Arrow table and rows, with apache-arrow installed as a user installs it. */
function tableProject(): string {
  const project = makeProject(`
import * as arrow from 'apache-arrow';
import { Pipeline, Task } from 'littlepipes';

const sales = new Task('Sales').process('run', () => new arrow.Table({
  id: arrow.vectorFromArray([3, 1, 2], new arrow.Int32()),
  region: arrow.vectorFromArray(['north', null, 'east'], new arrow.Utf8()),
}));
const rows = new Task('Rows').process('run', () => [{ id: 3, region: 'north' }, { id: 1, region: null }, { id: 2, region: 'east' }]);
const total = new Task('Total').process('run', () => 17);

export const pipeline = new Pipeline('Sales').add(sales, rows, total);
`);
  fs.symlinkSync(path.join(REPO, 'node_modules', 'apache-arrow'), path.join(project, 'node_modules', 'apache-arrow'), 'dir');
  return project;
}

test('littlepipes export TASK FILE writes a cached table or rows; bad usage is one line and exit 2', async () => {
  const project = tableProject();
  assert.equal((await cli(project, 'run')).code, 0);
  const table = await cli(project, 'export', 'Sales', 'sales.parquet');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stderr, /Sales: wrote sales\.parquet/);
  const expectedRows = [{ id: '3', region: 'north' }, { id: '1', region: null }, { id: '2', region: 'east' }];
  assert.deepEqual(await readWithDuckDB(path.join(project, 'sales.parquet'), ['id', 'region']), expectedRows);
  assert.equal((await cli(project, 'export', 'Rows', 'rows.CSV')).code, 0);
  assert.deepEqual(await readWithDuckDB(path.join(project, 'rows.CSV'), ['id', 'region']), expectedRows);

  const extension = await cli(project, 'export', 'Sales', 'sales.xlsx');
  assert.equal(extension.code, 2);
  assert.match(extension.stderr, /^littlepipes export: cannot tell the format of "sales\.xlsx" from its extension "\.xlsx"\. Name the file with one of \.arrow/);
  assert.equal(extension.stderr.trim().split('\n').length, 1, 'one line');
  const folder = await cli(project, 'export', 'Sales', 'out/sales.csv');
  assert.equal(folder.code, 2);
  assert.match(folder.stderr, /^littlepipes export: the folder .*out does not exist\. Create it, or write the file elsewhere\./);
  const scalar = await cli(project, 'export', 'Total', 'total.json');
  assert.equal(scalar.code, 2);
  assert.match(scalar.stderr, /^littlepipes export: the result of Total is number, not a table\./);
  const unknown = await cli(project, 'export', 'Sale', 'sales.csv');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Did you mean "Sales"\?/);
  assert.deepEqual(fs.readdirSync(project).filter((name) => /^(sales|total|rows)\./i.test(name)).sort(), ['rows.CSV', 'sales.parquet']);
});

test('littlepipes show and the shell\'s peek show a cached table as a table: class, rows × columns, schema, first rows', async () => {
  const project = tableProject();
  assert.equal((await cli(project, 'run')).code, 0);
  const shown = await cli(project, 'show', 'Sales');
  assert.equal(shown.code, 0, shown.stderr);
  const lines = shown.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 3), ['apache-arrow Table of 3 rows × 2 columns', 'id: Int32', 'region: Utf8']);
  assert.match(shown.stdout, /│ 3 +│ north +│\n│ 1 +│ null +│\n│ 2 +│ east +│/);
  const peek = await new Promise<string>((resolve, reject) => {
    import('node:child_process').then(({ execFile }) => {
      const child = execFile(process.execPath, [path.join(REPO, 'dist', 'cli', 'main.js'), 'shell'], { cwd: project, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
      child.stdin!.end('peek Rows\n');
    }, reject);
  });
  assert.match(peek, /array of 3 rows × 2 columns\nid: number\nregion: string\n/);
});
