import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CLI, REPO } from './cli/project.js';
import { type TestServer, startPostgres, startRedis } from './servers.js';

/**
 * Tables as results of a team: written through a real Redis or PostgreSQL store by one process
 * and read by another, and computed by `littlepipes worker` processes of a BullMQ run. Every
 * process is a real node process running a pipeline module in a folder inside the project, so
 * that it imports apache-arrow, arquero and nodejs-polars as a user's module does.
 */
const run = promisify(execFile);

/**
 * The pipeline module of every process. Big is an Arrow table past the size kept inside an
 * entry, so it goes to the store's own keys or rows for large values; the others stay inline.
 */
const TABLES_MODULE = `
import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import pl from 'nodejs-polars';
import { createHash } from 'node:crypto';
import { Pipeline, Task } from 'littlepipes';

export function arrowTable() {
  return new arrow.Table({
    id: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()),
    amount: arrow.vectorFromArray([1.5, null, -2.25], new arrow.Float64()),
    big: arrow.vectorFromArray([1n, 2n ** 62n, null], new arrow.Int64()),
    region: arrow.vectorFromArray(['north', null, 'north'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    at: arrow.vectorFromArray([1_700_000_000_000, null, 0], new arrow.TimestampMillisecond('Europe/Paris')),
  });
}
export const bigTable = () => arrow.tableFromArrays({ n: Int32Array.from({ length: 20_000 }, (_, i) => i), x: Float64Array.from({ length: 20_000 }, (_, i) => i / 7) });
export const arqueroTable = () => aq.table({ x: [3, 1, 2], s: ['c', 'a', null], when: [new Date('2024-01-01'), new Date('2024-02-01'), null] });
export const polarsFrame = () => pl.DataFrame({ x: [3, 1, 2], s: ['c', 'a', null], b: [true, false, true] });
export const nested = () => ({ summary: arqueroTable(), frames: [polarsFrame()], n: 3 });

/** Rows as JSON (bigints as "<digits>n"); many rows as their count and the hash of that JSON. */
function json(rows) {
  const text = JSON.stringify(rows, (key, item) => typeof item === 'bigint' ? item + 'n' : item);
  return text.length > 2000 ? rows.length + ' rows, sha256 ' + createHash('sha256').update(text).digest('hex') : text;
}

/** What a test compares of a table: its class (as the user's copy of its package has it), schema and rows. */
export function describe(value) {
  if (value instanceof arrow.Table) {
    return { class: 'arrow.Table', schema: value.schema.fields.map((f) => f.name + ':' + String(f.type) + ':' + f.nullable), rows: json(value.toArray()) };
  }
  if (value instanceof aq.ColumnTable) return { class: 'aq.ColumnTable', schema: value.columnNames(), rows: json(value.objects()) };
  if (Object.prototype.toString.call(value) === '[object DataFrame]' && typeof value.writeIPC === 'function') {
    return { class: 'pl.DataFrame', schema: value.columns.map((name, i) => name + ':' + String(value.dtypes[i])), rows: json(value.toRecords()) };
  }
  if (value && typeof value === 'object' && 'summary' in value) return { summary: describe(value.summary), frames: value.frames.map(describe), n: value.n };
  return { notATable: Object.prototype.toString.call(value) };
}

export const fresh = { Arrow: arrowTable, Big: bigTable, Arquero: arqueroTable, Polars: polarsFrame, Nested: nested };

const tables = Object.entries(fresh).map(([name, make]) => new Task(name).process('run', () => make()));
// Use runs wherever the executor sends it (a worker, in a BullMQ run); Here in the process that runs the pipeline.
const use = new Task('Use', { dependencies: ['Arrow', 'Nested'] }).process('run', (t) => ({ arrow: describe(t.result('Arrow')), nested: describe(t.result('Nested')) }));
const here = new Task('Here', { local: true, dependencies: ['Big', 'Polars'] }).process('run', (t) => ({ big: describe(t.result('Big')), polars: describe(t.result('Polars')) }));
// A mapped task runs in that process too, over the rows of the table.
const each = new Task('Each', { dependencies: ['Arquero'], map: { over: 'Arquero' } }).process('run', (t, row) => row.x * 10);

export const pipeline = new Pipeline('SharedTables', { store: process.env.TABLES_STORE, project: process.env.TABLES_PROJECT, logLevel: 'silent' }).add(...tables, use, here, each);
`;

let redis: TestServer;
let postgres: TestServer;
before(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
});
after(async () => {
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

interface Project {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs `body` as an ES module in the folder (after importing the pipeline module as `v`); returns what it prints. */
  script(body: string): Promise<string>;
}

/** A folder inside the repository (so its imports find the table packages) with the pipeline module, on `store`. */
function project(store: string, name: string): Project {
  const base = path.join(REPO, 'test', '.work');
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, 'shared-tables-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  fs.writeFileSync(path.join(dir, 'tables.mjs'), TABLES_MODULE);
  const env: NodeJS.ProcessEnv = { ...process.env, TABLES_STORE: store, TABLES_PROJECT: name, LITTLEPIPES_DIR: path.join(dir, '.littlepipes'), NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  let count = 0;
  return {
    dir,
    env,
    async script(body) {
      const file = path.join(dir, `script-${++count}.mjs`);
      fs.writeFileSync(file, `import * as v from './tables.mjs';\n${body}\n`);
      try {
        const { stdout } = await run(process.execPath, [file], { cwd: dir, env });
        return stdout;
      } catch (error) {
        const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
        return assert.fail(`script ${count} exited with ${code}:\n${stdout}${stderr}`);
      }
    },
  };
}

/** Prints, as JSON, each table task's result as `describe` sees it, beside the same table built afresh, and what the plan makes of each task. */
const READ_BACK = `
  const read = {};
  for (const [name, make] of Object.entries(v.fresh)) read[name] = { stored: v.describe(await v.pipeline.getResult(name)), fresh: v.describe(make()) };
  const plan = await v.pipeline.plan();
  await v.pipeline.close();
  console.log(JSON.stringify({ read, actions: plan.tasks.map((task) => task.name + ':' + task.action).sort() }));
`;

function assertTablesReadBack(out: string): void {
  const { read, actions } = JSON.parse(out) as { read: Record<string, { stored: { class?: string }; fresh: unknown }>; actions: string[] };
  for (const [name, { stored, fresh }] of Object.entries(read)) assert.deepEqual(stored, fresh, `${name} as read back`);
  assert.deepEqual(Object.fromEntries(Object.entries(read).map(([name, { stored }]) => [name, stored.class ?? 'nested'])), {
    Arrow: 'arrow.Table', Big: 'arrow.Table', Arquero: 'aq.ColumnTable', Polars: 'pl.DataFrame', Nested: 'nested',
  });
  assert.deepEqual(actions, ['Arquero', 'Arrow', 'Big', 'Each', 'Here', 'Nested', 'Polars', 'Use'].map((name) => `${name}:cached`));
}

for (const kind of ['Redis', 'PostgreSQL'] as const) {
  test(`Arrow, arquero and polars tables, alone or nested, written to a ${kind} store come back in a new process as the same classes with the same schema and rows`, async () => {
    const url = kind === 'Redis' ? redis.url : postgres.url;
    const where = project(url, `tables-${kind.toLowerCase()}`);
    const written = await where.script(`
      const report = await v.pipeline.execute({ progress: false });
      const here = await v.pipeline.getResult('Here');
      const use = await v.pipeline.getResult('Use');
      const each = await v.pipeline.getResult('Each');
      await v.pipeline.close();
      console.log(JSON.stringify({ counts: report.counts, use, here, each, expected: { arrow: v.describe(v.arrowTable()), nested: v.describe(v.nested()), big: v.describe(v.bigTable()), polars: v.describe(v.polarsFrame()) } }));
    `);
    const first = JSON.parse(written);
    assert.equal(first.counts.ran, 8, JSON.stringify(first.counts));
    assert.deepEqual(first.use, { arrow: first.expected.arrow, nested: first.expected.nested });
    assert.deepEqual(first.here, { big: first.expected.big, polars: first.expected.polars });
    assert.deepEqual(first.each, [30, 10, 20]);
    assert.deepEqual(fs.readdirSync(where.dir, { recursive: true }).filter((file) => String(file).endsWith('.sqlite')), [], 'the results went to the shared store, not to a local cache file');
    assertTablesReadBack(await where.script(READ_BACK));
  });
}

/** Starts `littlepipes worker` on the project's module, resolving once it says it is ready. */
async function startWorker(where: Project): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'worker', '--pipeline', 'tables.mjs', '--connection', redis.url], { cwd: where.dir, env: where.env });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  while (!output.includes(': ready on queue')) {
    if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}:\n${output}`);
    await sleep(50);
  }
  return { child, output: () => output };
}

test('tables computed by a BullMQ worker reach a dependent on a worker, one in the coordinator and a mapped task as tables, and getResult and a new process read them back as tables', async () => {
  const where = project(redis.url, 'tables-bullmq');
  const worker = await startWorker(where);
  const out = await where.script(`
    const report = await v.pipeline.execute({ executor: 'bullmq', connection: process.env.TABLES_STORE, progress: false });
    const ranOn = Object.fromEntries(report.tasks.map((task) => [task.name, task.worker ? 'worker' : 'here']));
    const results = { use: await v.pipeline.getResult('Use'), here: await v.pipeline.getResult('Here'), each: await v.pipeline.getResult('Each'), arrow: v.describe(await v.pipeline.getResult('Arrow')), big: v.describe(await v.pipeline.getResult('Big')) };
    await v.pipeline.close();
    console.log(JSON.stringify({ ranOn, results, expected: { arrow: v.describe(v.arrowTable()), nested: v.describe(v.nested()), big: v.describe(v.bigTable()), polars: v.describe(v.polarsFrame()) } }));
  `);
  const { ranOn, results, expected } = JSON.parse(out);
  assert.deepEqual(ranOn, { Arrow: 'worker', Big: 'worker', Arquero: 'worker', Polars: 'worker', Nested: 'worker', Use: 'worker', Here: 'here', Each: 'here' }, worker.output());
  assert.equal(results.arrow.class, 'arrow.Table');
  assert.deepEqual(results.arrow, expected.arrow);
  assert.deepEqual(results.big, expected.big);
  assert.deepEqual(results.use, { arrow: expected.arrow, nested: expected.nested }, 'the worker running Use got Arrow and Nested as tables');
  assert.deepEqual(results.here, { big: expected.big, polars: expected.polars }, 'the coordinator running Here got Big and Polars as tables');
  assert.deepEqual(results.each, [30, 10, 20], 'Each mapped over the rows of the arquero table a worker computed');
  assertTablesReadBack(await where.script(READ_BACK));
});
