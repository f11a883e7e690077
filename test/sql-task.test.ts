import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  InvalidOptionError,
  NoFreshResultError,
  OutputFileError,
  type Pipeline,
  PipelineRunError,
  ResourceError,
  SqlStatementError,
  Task,
  TaskTimeoutError,
  sqlTask,
} from '../lib/index.js';
import { statuses, temporaryFolder, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

// SQL files and table outputs are found from the working directory: each test works in its own folder.
function inFolder(files: Record<string, string> = {}): void {
  process.chdir(temporaryFolder());
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(file.split('/').slice(0, -1).join('/') || '.', { recursive: true });
    fs.writeFileSync(file, text);
  }
}

const DATABASE = 'warehouse.duckdb';

/**
 * A connection to the test's database as a user would provide one. fromCache gives every
 * connection in the process one database instance, so what one writes, the others read.
 */
async function connect(): Promise<DuckDBConnection> {
  return (await DuckDBInstance.fromCache(DATABASE)).connect();
}

/** A pipeline whose resource `db` is a DuckDB connection, with the connections it made. */
function withDatabase(name: string): { pipeline: Pipeline; connections: DuckDBConnection[] } {
  const connections: DuckDBConnection[] = [];
  const pipeline = testPipeline(name).provide('db', async () => {
    const connection = await connect();
    connections.push(connection);
    return connection;
  });
  return { pipeline, connections };
}

/** Runs SQL outside littlepipes, on a connection of its own. */
async function outside(sql: string): Promise<Record<string, unknown>[]> {
  const connection = await connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    connection.closeSync();
  }
}

async function failureOf(pipeline: Pipeline, task: string): Promise<Error> {
  const error = await pipeline.execute(quiet).then(() => assert.fail('the run should fail'), (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError, String(error));
  const failure = error.report.task(task)?.error;
  assert.ok(failure, `${task} should have failed`);
  return failure;
}

test('a SQL file runs statement by statement: a ; in a string, a quoted name, a comment or a $$ body does not end one, and the result is the rows of the last', async () => {
  inFolder({
    'sql/sales.sql': [
      '-- Sales; loaded by hand',
      'CREATE TABLE sales (id INTEGER, note VARCHAR, amount DECIMAL(10, 2), day DATE, big BIGINT);',
      '/* a block comment; with a semicolon */',
      'INSERT INTO sales VALUES',
      "  (1, 'semi;colon', 12.50, DATE '2024-03-01', 9007199254740993),",
      "  (2, 'it''s; fine', 3.25, DATE '2024-03-02', 7);",
      'CREATE MACRO tagged(x) AS x || $$;tagged$$;',
      'SELECT id, tagged(note) AS "we;ird", amount, day, big FROM sales ORDER BY id;',
      '-- the end; nothing after it',
      '',
    ].join('\n'),
  });
  const { pipeline } = withDatabase('Split');
  pipeline.add(sqlTask('Sales', 'sql/sales.sql'));
  await pipeline.execute(quiet);
  const expected = [
    { id: 1, 'we;ird': 'semi;colon;tagged', amount: 12.5, day: new Date('2024-03-01T00:00:00Z'), big: 9007199254740993n },
    { id: 2, 'we;ird': "it's; fine;tagged", amount: 3.25, day: new Date('2024-03-02T00:00:00Z'), big: 7 },
  ];
  assert.deepEqual(await pipeline.getResult('Sales'), expected, 'a BIGINT a number cannot hold stays a bigint; the others are numbers');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Sales: 'cached' });
  assert.deepEqual(await pipeline.getResult('Sales'), expected, 'the rows come back from the cache as they were');
});

test('the rows are plain values the cache keeps, whatever the column types', async () => {
  inFolder({
    'sql/types.sql': `SELECT
      170141183460469231731687303715884105727::HUGEINT AS huge,
      12345678901234567890.1234567890::DECIMAL(38, 10) AS exact,
      'infinity'::DATE AS forever,
      '-infinity'::TIMESTAMP AS never,
      DATE '2024-03-01' AS day,
      TIMESTAMP '2024-03-01 12:30:00.123' AS stamp,
      TIME '12:34:56' AS clock,
      INTERVAL 3 DAY AS wait,
      'a1b2c3d4-0000-4000-8000-000000000000'::UUID AS id,
      'abc'::BLOB AS bytes,
      [1, 2, NULL] AS list,
      {'k': 'v', 'n': 1.5} AS struct,
      MAP {'a': 1} AS map,
      NULL AS nothing`,
  });
  const { pipeline } = withDatabase('Types');
  pipeline.add(sqlTask('Types', 'sql/types.sql'));
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Types'), [{
    huge: 170141183460469231731687303715884105727n,
    exact: '12345678901234567890.1234567890',
    forever: 'infinity',
    never: '-infinity',
    day: new Date('2024-03-01T00:00:00Z'),
    stamp: new Date('2024-03-01T12:30:00.123Z'),
    clock: '12:34:56',
    wait: { months: 0, days: 3, micros: 0 },
    id: 'a1b2c3d4-0000-4000-8000-000000000000',
    bytes: Buffer.from('abc'),
    list: [1, 2, null],
    struct: { k: 'v', n: 1.5 },
    map: [{ key: 'a', value: 1 }],
    nothing: null,
  }]);
});

test('editing the SQL file re-runs the task and the reason names the file; its content is the fingerprint, so a comment counts too', async () => {
  inFolder({ 'sql/answer.sql': 'SELECT 42 AS answer;\n' });
  const { pipeline } = withDatabase('Edits');
  pipeline.add(sqlTask('Answer', 'sql/answer.sql'));
  await pipeline.execute(quiet);
  assert.equal((await pipeline.plan()).task('Answer')?.action, 'cached');

  fs.appendFileSync('sql/answer.sql', '-- checked by Ann\n');
  const plan = await pipeline.plan();
  assert.equal(plan.task('Answer')?.action, 'run');
  const reason = plan.task('Answer')!.reasons[0]!;
  assert.deepEqual(reason.kind === 'code changed' && reason.changes.map((change) => change.symbol), ['file sql/answer.sql']);
  assert.equal((await pipeline.execute(quiet)).task('Answer')?.reason, 'code changed: file sql/answer.sql');

  fs.writeFileSync('sql/answer.sql', 'SELECT 43 AS answer;\n');
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Answer'), [{ answer: 43 }]);
});

test('result and db are part of the fingerprint: changing one re-runs the task, and the plan names it', async () => {
  inFolder({ 'sql/answer.sql': 'SELECT 42 AS answer;\n' });
  const first = withDatabase('Options').pipeline;
  first.add(sqlTask('Answer', 'sql/answer.sql'));
  await first.execute(quiet);
  first.replace(sqlTask('Answer', 'sql/answer.sql', { result: 'none' }));
  assert.equal((await first.execute(quiet)).task('Answer')?.reason, 'params changed: $result "rows" → "none"');
  assert.equal(await first.getResult('Answer'), undefined);
  first.provide('warehouse', connect).replace(sqlTask('Answer', 'sql/answer.sql', { result: 'none', db: 'warehouse' }));
  assert.equal((await first.execute(quiet)).task('Answer')?.reason, 'params changed: $db "db" → "warehouse"');
});

test('a statement\'s $names are bound from the task\'s params: scalars as they are, arrays as JSON', async () => {
  inFolder({
    'sql/filter.sql': [
      "CREATE OR REPLACE TABLE sales AS SELECT * FROM (VALUES (1, 'north', 10), (2, 'south', 3), (3, 'east', 20)) AS v(id, region, amount);",
      'SELECT id FROM sales',
      'WHERE amount >= $minimum AND region IN (SELECT unnest($regions::JSON::VARCHAR[]))',
      "  AND 'costs $5' <> '' -- a $ in a string is not a parameter",
      'ORDER BY id;',
    ].join('\n'),
  });
  const { pipeline } = withDatabase('Params');
  pipeline.add(sqlTask('Filter', 'sql/filter.sql', { params: { minimum: 5, regions: ['north', 'east'] } }));
  await pipeline.execute(quiet);
  assert.deepEqual(await pipeline.getResult('Filter'), [{ id: 1 }, { id: 3 }]);

  pipeline.replace(sqlTask('Filter', 'sql/filter.sql', { params: { minimum: 5 } }));
  const failure = await failureOf(pipeline, 'Filter');
  assert.ok(failure instanceof SqlStatementError, String(failure));
  assert.equal(failure.statement, 2);
  assert.match(failure.message, /uses the parameter \$regions, which is not one of the task's params \(minimum\)\. Add it to params\./);
});

test('a failing statement fails the task with a SqlStatementError naming its number, its line and DuckDB\'s message; the statements before it ran, and nothing is cached', async () => {
  inFolder({
    'sql/load.sql': [
      'CREATE TABLE loaded AS SELECT 1 AS x;',
      '',
      '-- the next statement reads a table that is not there',
      'INSERT INTO loaded',
      'SELECT y FROM nowhere;',
      'CREATE TABLE after_failure AS SELECT 1 AS x;',
    ].join('\n'),
  });
  const { pipeline } = withDatabase('Failing');
  pipeline.add(sqlTask('Load', 'sql/load.sql'), new Task('Report', { dependencies: ['Load'] }).process('run', () => 'report'));
  const error = await pipeline.execute(quiet).then(() => assert.fail('the run should fail'), (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError);
  assert.equal(error.report.task('Report')?.status, 'blocked');
  const failure = error.report.task('Load')?.error;
  assert.ok(failure instanceof SqlStatementError, String(failure));
  assert.equal(failure.code, 'ERR_SQL_STATEMENT');
  assert.equal(failure.file, 'sql/load.sql');
  assert.equal(failure.statement, 2);
  assert.equal(failure.line, 4, 'the line of its first word, after the comment above it');
  assert.match(failure.message, /^Load: statement 2 of sql\/load\.sql \(line 4\), INSERT INTO loaded SELECT y FROM nowhere, failed: Catalog Error: Table with name nowhere does not exist!/);
  // DuckDB's excerpt is counted in the file: the statement's second line is the file's fifth.
  assert.match(failure.message, /\nLINE 5: SELECT y FROM nowhere\n {22}\^/);

  await assert.rejects(pipeline.getResult('Load'), NoFreshResultError);
  assert.deepEqual(await outside('SELECT x FROM loaded'), [{ x: 1 }], 'the statement before the failure ran');
  assert.deepEqual(await outside("SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = 'after_failure'"), [{ n: 0 }], 'the statement after it did not');
});

test('the connection is made once per run, shared by the SQL tasks, and closed when the run ends', async () => {
  inFolder({ 'sql/one.sql': 'CREATE TABLE one AS SELECT 1 AS n; SELECT n FROM one;', 'sql/two.sql': 'SELECT 2 AS n;' });
  const { pipeline, connections } = withDatabase('Connections');
  pipeline.add(sqlTask('One', 'sql/one.sql'), sqlTask('Two', 'sql/two.sql'), new Task('Plain').process('run', () => 0));
  await pipeline.execute(quiet);
  assert.equal(connections.length, 1);
  await assert.rejects(connections[0]!.run('SELECT 1'), /disconnected/, 'closed at the end of the run');
  assert.deepEqual([await pipeline.getResult('One'), await pipeline.getResult('Two')], [[{ n: 1 }], [{ n: 2 }]]);

  await pipeline.execute(quiet);
  assert.equal(connections.length, 1, 'a run where every SQL task is cached makes no connection');
  await pipeline.execute({ ...quiet, force: ['Two'] });
  assert.equal(connections.length, 2, 'a new run makes a new one');
});

test('a timeout interrupts the running statement', async () => {
  inFolder({ 'sql/slow.sql': 'SELECT sum(a.range * b.range) AS s FROM range(1000000) a, range(1000000) b;' });
  const { pipeline } = withDatabase('Slow');
  pipeline.add(sqlTask('Slow', 'sql/slow.sql', { timeout: 300 }));
  const failure = await failureOf(pipeline, 'Slow');
  assert.ok(failure instanceof TaskTimeoutError, String(failure));
  // The run ends at the timeout whether or not the statement stops. Left running, this join
  // would keep DuckDB's threads busy for minutes, in this process: measure that it does not.
  await sleep(100);
  const before = process.cpuUsage();
  await sleep(500);
  const { user, system } = process.cpuUsage(before);
  assert.ok(user + system < 200_000, `${Math.round((user + system) / 1000)} ms of CPU in 500 ms after the timeout`);
});

test('a table output: changing a row or dropping the table outside littlepipes re-runs the task; the same rows in another order do not', async () => {
  inFolder({ 'sql/clean.sql': "CREATE OR REPLACE TABLE sales_clean AS SELECT * FROM (VALUES (1, 'north', 10.5), (2, 'south', 3.0)) AS v(id, region, amount);" });
  const { pipeline } = withDatabase('Tables');
  pipeline.add(sqlTask('Clean', 'sql/clean.sql', { outputs: [{ table: 'sales_clean' }], result: 'none' }));
  assert.deepEqual(pipeline.getTask('Clean').outputs, ['db:sales_clean']);
  await pipeline.execute(quiet);
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Clean: 'cached' });

  await outside('UPDATE sales_clean SET amount = 99 WHERE id = 1');
  assert.equal((await pipeline.execute(quiet)).task('Clean')?.reason, 'output modified: db:sales_clean (modified)');
  assert.deepEqual(await outside('SELECT amount::DOUBLE AS amount FROM sales_clean WHERE id = 1'), [{ amount: 10.5 }], 'the task wrote it anew');

  await outside('CREATE OR REPLACE TABLE sales_clean AS SELECT * FROM sales_clean ORDER BY id DESC');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Clean: 'cached' });

  await outside('ALTER TABLE sales_clean RENAME COLUMN region TO area');
  assert.equal((await pipeline.execute(quiet)).task('Clean')?.reason, 'output modified: db:sales_clean (modified)', 'a renamed column is a change');

  await outside('DROP TABLE sales_clean');
  assert.equal((await pipeline.execute(quiet)).task('Clean')?.reason, 'output missing: db:sales_clean');
  assert.deepEqual(statuses(await pipeline.execute(quiet)), { Clean: 'cached' });
});

test('a table output the task does not create fails it with an OutputFileError, and nothing is cached', async () => {
  inFolder({ 'sql/forgetful.sql': 'CREATE TABLE something_else AS SELECT 1 AS x;' });
  const { pipeline } = withDatabase('MissingTable');
  pipeline.add(sqlTask('Forgetful', 'sql/forgetful.sql', { outputs: 'db:staging.sales_clean' }));
  const failure = await failureOf(pipeline, 'Forgetful');
  assert.ok(failure instanceof OutputFileError, String(failure));
  assert.equal(failure.message, "Forgetful: output db:staging.sales_clean is not in the database after the task ran; create the table, or remove it from the task's outputs.");
  await assert.rejects(pipeline.getResult('Forgetful'), NoFreshResultError);
});

test('any task can declare a table output, on any resource', async () => {
  inFolder();
  const pipeline = testPipeline('PlainTable').provide('warehouse', connect);
  pipeline.add(
    new Task('Write', { uses: ['warehouse'], outputs: [{ table: 'written', db: 'warehouse' }] }).process('run', async (t) => {
      await t.use<DuckDBConnection>('warehouse').run('CREATE OR REPLACE TABLE written AS SELECT 1 AS x');
      return 'done';
    }),
  );
  assert.deepEqual(pipeline.getTask('Write').outputs, ['db:warehouse/written']);
  await pipeline.execute(quiet);
  await outside('INSERT INTO written VALUES (2)');
  assert.equal((await pipeline.execute(quiet)).task('Write')?.reason, 'output modified: db:warehouse/written (modified)');
});

test('a resource that is not a DuckDB connection fails the task with a ResourceError saying what to provide', async () => {
  inFolder({ 'sql/answer.sql': 'SELECT 42 AS answer;' });
  const pipeline = testPipeline('NotAConnection').provide('db', () => DuckDBInstance.fromCache(DATABASE));
  pipeline.add(sqlTask('Answer', 'sql/answer.sql'));
  const failure = await failureOf(pipeline, 'Answer');
  assert.ok(failure instanceof ResourceError, String(failure));
  assert.match(failure.message, /^Answer: the resource "db" must be a DuckDB connection \(a DuckDBConnection from @duckdb\/node-api\)\. It looks like a DuckDBInstance: provide a connection/);
});

test('sqlTask\'s options are checked when the task is made', () => {
  const refused = (make: () => unknown, option: string, message: RegExp) =>
    assert.throws(make, (error: unknown) => error instanceof InvalidOptionError && error.option === option && message.test(error.message));
  refused(() => sqlTask('Q', ''), 'file', /^Task "Q": the SQL file must be a path, such as 'sql\/ingest\.sql', got "" \(string\)\.$/);
  refused(() => sqlTask('Q', 'q.sql', { db: '' }), 'db', /db must be the name of a resource/);
  refused(() => sqlTask('Q', 'q.sql', { result: 'json' as 'rows' }), 'result', /result must be 'rows' or 'none', got "json" \(string\)/);
  refused(() => sqlTask('Q', 'q.sql', { reslt: 'none' } as object), 'reslt', /Did you mean "result"\?/);
  refused(() => sqlTask('Q', 'q.sql', { map: { over: 'Files' } } as object), 'map', /map/);
  refused(() => sqlTask('Q', 'q.sql', { params: { $result: 1 } }), 'params', /the param name \$result is taken by sqlTask/);
  refused(() => new Task('T', { outputs: [{ table: 'a.b.c.d' }] }), 'outputs', /the table must be a name such as 'sales_clean' or 'staging\.sales'/);
  refused(() => new Task('T', { outputs: ['db:"quoted"'] }), 'outputs', /the table must be a name/);
  refused(() => new Task('T', { outputs: [{ table: 'x', db: '' }] }), 'outputs', /db must be the name of a resource/);
  refused(() => new Task('T', { outputs: [{ table: 'x', schema: 'main' } as object as { table: string }] }), 'schema', /an output table/);
  assert.deepEqual(sqlTask('Q', 'q.sql', { db: 'warehouse', outputs: [{ table: 'a' }, 'db:b', 'db:db/c', 'out/d.csv'] }).outputs, ['db:warehouse/a', 'db:warehouse/b', 'db:c', 'out/d.csv']);
  assert.deepEqual(sqlTask('Q', 'q.sql', { db: 'warehouse', uses: ['cache'] }).uses, ['warehouse', 'cache']);
  assert.deepEqual(sqlTask('Q', 'q.sql', { sources: 'sql/macros.sql' }).sources, ['q.sql', 'sql/macros.sql']);
});
