import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pl from 'nodejs-polars';

/**
 * Tables and other class values as results, written by one process and read by another, each
 * a real node process running a pipeline module in a folder inside the project, so that it
 * imports apache-arrow, arquero, nodejs-polars and @duckdb/node-api as a user's module does.
 */
const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function workFolder(): string {
  const base = path.join(root, 'test', '.work');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, 'tables-'));
}

/** The module every process of a test imports: tasks that build the values. */
const VALUES_MODULE = `
import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import pl from 'nodejs-polars';
import { DuckDBInstance } from '@duckdb/node-api';
import { Pipeline, Task, defineFormat } from 'littlepipes';

export class Money {
  constructor(cents, currency) { this.cents = cents; this.currency = currency; }
  label() { return (this.cents / 100).toFixed(2) + ' ' + this.currency; }
}
const version = Number(process.env.MONEY_VERSION ?? 1);
export const money = defineFormat({
  name: 'money', version,
  handles: (value) => value instanceof Money,
  encode: (value) => Buffer.from(JSON.stringify([value.cents, value.currency])),
  decode: (bytes) => {
    if (process.env.MONEY_BROKEN) throw new Error('the money bytes make no sense');
    const [cents, currency] = JSON.parse(Buffer.from(bytes).toString());
    return new Money(cents, currency);
  },
});

export function arrowTable() {
  const dictionary = arrow.vectorFromArray(['north', 'south', 'north', null], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()));
  return new arrow.Table({
    id: arrow.vectorFromArray([1, 2, 3, 4], new arrow.Int32()),
    amount: arrow.vectorFromArray([1.5, null, -2.25, 1e9], new arrow.Float64()),
    big: arrow.vectorFromArray([1n, 2n ** 62n, null, -5n], new arrow.Int64()),
    flag: arrow.vectorFromArray([true, false, null, true], new arrow.Bool()),
    name: arrow.vectorFromArray(['a', 'é', null, 'd'], new arrow.Utf8()),
    region: dictionary,
    day: arrow.vectorFromArray([new Date('2024-01-02'), null, new Date('1999-12-31'), new Date('2030-06-01')], new arrow.DateDay()),
    at: arrow.vectorFromArray([1_700_000_000_000, 1_700_000_001_000, null, 0], new arrow.TimestampMillisecond('Europe/Paris')),
  });
}

export const tasks = {
  Arrow: () => new Task('Arrow').process('run', () => arrowTable()),
  Arquero: () => new Task('Arquero').process('run', () => aq.table({ x: [3, 1, 2], s: ['c', 'a', null], when: [new Date('2024-01-01'), new Date('2024-02-01'), null] })),
  Polars: () => new Task('Polars').process('run', () => pl.DataFrame({ x: [3, 1, 2], s: ['c', 'a', null], b: [true, false, true] })),
  Duck: () => new Task('Duck').process('run', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll("select 1.25::decimal(10,2) as d, TIMESTAMP '2024-01-02 03:04:05' as t, [1, 2] as l, {'a': 1, 'b': 'x'} as s, date '2024-01-01' as day, interval 3 day as gap");
    const rows = reader.getRowObjects();
    connection.closeSync();
    return rows;
  }),
  Failure: () => new Task('Failure').process('run', () => {
    const error = new TypeError('bad row', { cause: new Error('root cause') });
    error.code = 'E_ROW';
    error.row = 7;
    return { error };
  }),
  Nested: () => new Task('Nested').process('run', () => ({ tables: new Map([['sales', arrowTable()]]), list: [aq.table({ a: [1] }), { price: new Money(1250, 'EUR') }] })),
  Wallet: () => new Task('Wallet').process('run', () => new Money(999, 'USD')),
};

export function pipeline(names, extra = []) {
  const p = new Pipeline('Tables', { cacheDir: process.env.CACHE_DIR, formats: [money], logLevel: 'silent' });
  p.add(...names.map((name) => tasks[name]()), ...extra);
  return p;
}
`;

interface Folder {
  dir: string;
  /** Runs `body` as an ES module in the folder (after importing the values module as `v`); returns what it prints. */
  script(body: string, env?: Record<string, string>): Promise<string>;
}

function folder(): Folder {
  const dir = workFolder();
  fs.writeFileSync(path.join(dir, 'values.mjs'), VALUES_MODULE);
  let count = 0;
  return {
    dir,
    async script(body, env = {}) {
      const file = path.join(dir, `script-${++count}.mjs`);
      fs.writeFileSync(file, `import * as v from './values.mjs';\nimport * as arrow from 'apache-arrow';\nimport * as aq from 'arquero';\nimport pl from 'nodejs-polars';\n${body}\n`);
      const { stdout } = await run(process.execPath, [file], { cwd: dir, env: { ...process.env, CACHE_DIR: path.join(dir, '.cache'), ...env } });
      return stdout;
    },
  };
}

const WRITE = (names: string[]) => `const p = v.pipeline(${JSON.stringify(names)}); await p.execute({ progress: false }); await p.close();`;

test('Arrow, arquero and polars tables come back in a new process as the same classes, every column type intact', async () => {
  const work = folder();
  await work.script(WRITE(['Arrow', 'Arquero', 'Polars']));
  const out = await work.script(`
    const p = v.pipeline(['Arrow', 'Arquero', 'Polars']);
    const table = await p.getResult('Arrow');
    const expected = v.arrowTable();
    const check = {
      arrowClass: table instanceof arrow.Table,
      schema: table.schema.fields.map((f) => f.name + ':' + String(f.type) + ':' + f.nullable),
      expectedSchema: expected.schema.fields.map((f) => f.name + ':' + String(f.type) + ':' + f.nullable),
      rows: JSON.stringify(table.toArray(), (k, value) => typeof value === 'bigint' ? value + 'n' : value),
      expectedRows: JSON.stringify(expected.toArray(), (k, value) => typeof value === 'bigint' ? value + 'n' : value),
      timezone: table.schema.fields.find((f) => f.name === 'at').type.timezone,
      dictionary: arrow.DataType.isDictionary(table.schema.fields.find((f) => f.name === 'region').type),
    };
    const aqTable = await p.getResult('Arquero');
    check.arqueroClass = aqTable instanceof aq.ColumnTable || aqTable.constructor.name === 'ColumnTable';
    check.arqueroRows = JSON.stringify(aqTable.objects());
    const frame = await p.getResult('Polars');
    check.polarsClass = frame.constructor.name + ':' + typeof frame.writeIPC;
    check.polarsRows = JSON.stringify(frame.toRecords());
    check.polarsTypes = frame.dtypes.map(String);
    const plan = await p.plan();
    check.cached = plan.tasks.map((task) => task.name + ':' + task.action);
    await p.close();
    console.log(JSON.stringify(check));
  `);
  const check = JSON.parse(out);
  assert.equal(check.arrowClass, true);
  assert.deepEqual(check.schema, check.expectedSchema);
  assert.equal(check.rows, check.expectedRows);
  assert.equal(check.timezone, 'Europe/Paris');
  assert.equal(check.dictionary, true);
  assert.equal(check.arqueroClass, true);
  assert.equal(check.arqueroRows, JSON.stringify([{ x: 3, s: 'c', when: '2024-01-01T00:00:00.000Z' }, { x: 1, s: 'a', when: '2024-02-01T00:00:00.000Z' }, { x: 2, s: null, when: null }]));
  assert.equal(check.polarsClass.endsWith(':function'), true);
  assert.equal(check.polarsRows, JSON.stringify([{ x: 3, s: 'c', b: true }, { x: 1, s: 'a', b: false }, { x: 2, s: null, b: true }]));
  assert.deepEqual(check.polarsTypes, ['DataType(Float64)', 'DataType(String)', 'DataType(Bool)']);
  assert.deepEqual(check.cached.sort(), ['Arquero:cached', 'Arrow:cached', 'Polars:cached']);
});

test('DuckDB values, errors with their fields, nested tables and a format of your own come back equal', async () => {
  const work = folder();
  await work.script(WRITE(['Duck', 'Failure', 'Nested', 'Wallet']));
  const out = await work.script(`
    import { DuckDBDecimalValue, DuckDBTimestampValue, DuckDBListValue, DuckDBStructValue } from '@duckdb/node-api';
    import assert from 'node:assert/strict';
    const p = v.pipeline(['Duck', 'Failure', 'Nested', 'Wallet']);
    const fresh = await v.tasks.Duck().processes.get('run')({});
    const [row] = await p.getResult('Duck');
    assert.ok(row.d instanceof DuckDBDecimalValue && row.t instanceof DuckDBTimestampValue && row.l instanceof DuckDBListValue && row.s instanceof DuckDBStructValue);
    assert.deepEqual(row, fresh[0]);
    assert.equal(row.d.toString(), '1.25');
    const { error } = await p.getResult('Failure');
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, 'bad row');
    assert.equal(error.code, 'E_ROW');
    assert.equal(error.row, 7);
    assert.equal(error.cause.message, 'root cause');
    assert.match(error.stack, /TypeError: bad row/);
    const nested = await p.getResult('Nested');
    assert.ok(nested.tables.get('sales') instanceof arrow.Table);
    assert.equal(nested.tables.get('sales').numRows, 4);
    assert.deepEqual(nested.list[0].objects(), [{ a: 1 }]);
    assert.ok(nested.list[1].price instanceof v.Money);
    assert.equal(nested.list[1].price.label(), '12.50 EUR');
    const wallet = await p.getResult('Wallet');
    assert.equal(wallet.label(), '9.99 USD');
    await p.close();
    console.log('ok');
  `).catch((error: { stderr?: string }) => assert.fail(error.stderr));
  assert.equal(out.trim(), 'ok');
});

test('a new version of a format re-runs its task; a decode that throws sets the entry aside and the task runs again', async () => {
  const work = folder();
  await work.script(WRITE(['Wallet', 'Arrow']));
  const plan = await work.script(`
    const p = v.pipeline(['Wallet', 'Arrow']);
    const plan = await p.plan();
    console.log(JSON.stringify(plan.tasks.map((task) => [task.name, task.action, task.reasons.map((r) => r.kind + ':' + (r.format ?? '') + ':' + (r.before ?? '') + ':' + (r.after ?? ''))])));
    await p.close();
  `, { MONEY_VERSION: '2' });
  assert.deepEqual(JSON.parse(plan).sort(), [['Arrow', 'cached', []], ['Wallet', 'run', ['format changed:money:1:2']]]);
  const broken = await work.script(`
    const p = v.pipeline(['Wallet']);
    const error = await p.getResult('Wallet').catch((e) => e);
    console.log(JSON.stringify({ code: error.code, message: error.message }));
    const report = await p.execute({ progress: false });
    console.log(JSON.stringify(report.tasks.map((t) => [t.name, t.status])));
    await p.close();
  `, { MONEY_BROKEN: '1' });
  const [first, second] = broken.trim().split('\n');
  const error = JSON.parse(first!);
  assert.equal(error.code, 'ERR_DAMAGED_RESULT');
  assert.match(error.message, /The cached result of Wallet cannot be read back: the money bytes make no sense\. It was set aside; run the pipeline again/);
  assert.deepEqual(JSON.parse(second!), [['Wallet', 'ran']]);
});

test('a table that re-runs to the same table leaves its dependents cached; dependents and map get tables and their rows', async () => {
  const work = folder();
  const defineDependents = `
    import { Task } from 'littlepipes';
    const use = new Task('Use', { dependencies: ['Arrow'] }).process('run', (t) => {
      const table = t.result('Arrow');
      return { isTable: table instanceof arrow.Table, rows: table.numRows, runs: Date.now() };
    });
    const each = new Task('Each', { dependencies: ['Arrow'], map: { over: 'Arrow' } }).process('run', (t, row) => row.id * 10);
    const p = v.pipeline(['Arrow'], [use, each]);
  `;
  const first = await work.script(`${defineDependents}
    await p.execute({ progress: false });
    console.log(JSON.stringify({ use: await p.getResult('Use'), each: await p.getResult('Each') }));
    await p.close();
  `);
  const result = JSON.parse(first);
  assert.equal(result.use.isTable, true);
  assert.equal(result.use.rows, 4);
  assert.deepEqual(result.each, [10, 20, 30, 40]);
  const second = await work.script(`${defineDependents}
    const report = await p.execute({ force: ['Arrow'], progress: false });
    console.log(JSON.stringify(report.tasks.map((t) => [t.name, t.status]).sort()));
    await p.close();
  `);
  assert.deepEqual(JSON.parse(second), [['Arrow', 'ran'], ['Each', 'cached'], ['Use', 'cached']]);
});

test('a class no format handles names the task, the path, the class, defineFormat and the formats registered', async () => {
  const work = folder();
  const out = await work.script(`
    import { Task } from 'littlepipes';
    class Widget {}
    const bad = new Task('Bad').process('run', () => ({ parts: [1, { widget: new Widget() }] }));
    const p = v.pipeline([], [bad]);
    const report = await p.execute({ progress: false }).catch((e) => e.report);
    const error = report.task('Bad').error;
    console.log(JSON.stringify({ code: error.code, message: error.message }));
    await p.close();
  `);
  const error = JSON.parse(out);
  assert.equal(error.code, 'ERR_UNCACHEABLE_RESULT');
  for (const fragment of ['Bad: result.parts[1].widget is an instance of Widget', 'defineFormat({ name, version, handles, encode, decode })', 'Formats registered: money@1, arrow@1, arquero@1, polars@1, duckdb@1, error@1.']) {
    assert.ok(error.message.includes(fragment), `${fragment} in ${error.message}`);
  }
});

test('a DataFrame result is kept as the Arrow IPC file polars writes, which polars reads itself; re-run to the same frame, dependents stay cached; a changed file is set aside', async () => {
  const work = folder();
  const define = `
    import { Task } from 'littlepipes';
    const count = new Task('Count', { dependencies: ['Polars'] }).process('run', (t) => t.result('Polars').height);
    const p = v.pipeline(['Polars'], [count]);
  `;
  await work.script(`${define} await p.execute({ progress: false }); await p.close();`);
  const blobs = path.join(work.dir, '.cache', 'blobs', 'Tables');
  const files = fs.readdirSync(blobs).filter((name) => name.startsWith('Polars.'));
  assert.equal(files.length, 1, `one file for Polars: ${files.join(', ')}`);
  assert.match(files[0]!, /\.ipc$/);
  const direct = pl.readIPC(path.join(blobs, files[0]!));
  assert.deepEqual(direct.toRecords(), [{ x: 3, s: 'c', b: true }, { x: 1, s: 'a', b: false }, { x: 2, s: null, b: true }], 'polars itself reads the cached file');

  const again = await work.script(`${define}
    const report = await p.execute({ force: ['Polars'], progress: false });
    console.log(JSON.stringify(report.tasks.map((t) => [t.name, t.status]).sort()));
    await p.close();
  `);
  assert.deepEqual(JSON.parse(again), [['Count', 'cached'], ['Polars', 'ran']]);

  const file = path.join(blobs, fs.readdirSync(blobs).find((name) => name.startsWith('Polars.'))!);
  const other = pl.DataFrame({ x: [9, 9, 9], s: ['z', 'z', 'z'], b: [false, false, false] });
  other.writeIPC(file);
  const out = await work.script(`${define}
    const error = await p.getResult('Polars').then(() => 'served', (e) => e.name + ': ' + e.message);
    const report = await p.execute({ progress: false });
    console.log(JSON.stringify({ error, statuses: report.tasks.map((t) => [t.name, t.status]).sort(), rows: (await p.getResult('Polars')).toRecords() }));
    await p.close();
  `);
  const result = JSON.parse(out);
  assert.match(result.error, /^DamagedResultError: .*Polars/);
  assert.deepEqual(result.statuses, [['Count', 'cached'], ['Polars', 'ran']], 'Polars ran again to the same frame, so Count stayed cached');
  assert.deepEqual(result.rows, [{ x: 3, s: 'c', b: true }, { x: 1, s: 'a', b: false }, { x: 2, s: null, b: true }]);
});
