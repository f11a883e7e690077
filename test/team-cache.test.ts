import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO, cli, makeProject } from './cli/project.js';
import { Pipeline, Task } from '../lib/index.js';
import { temporaryFolder } from './helpers.js';
import { type TestServer, startPostgres, startRedis } from './servers.js';

/**
 * One team, two machines: the same project in two folders (standing for two laptops, with their
 * own paths, file times and local folders), sharing one store. What decides freshness (code,
 * params, input contents, upstream results) is the same on both, so one person's fresh results
 * serve the other; what differs on one machine re-runs there, and only there.
 */
const PIPELINE = `
import fs from 'node:fs';
import { Pipeline, Task } from 'littlepipes';
import { clean } from './lib/clean.mjs';

const ran = (task) => fs.appendFileSync('executions.txt', task + '\\n');
const load = new Task('Load', { inputs: ['data/sales.csv'] })
  .process('run', () => { ran('Load'); return fs.readFileSync('data/sales.csv', 'utf8').trim().split('\\n').map(Number); });
const cleaned = new Task('Clean', { dependencies: ['Load'] })
  .process('run', (t) => { ran('Clean'); return clean(t.result('Load')); });
const total = new Task('Total', { dependencies: ['Clean'] })
  .process('run', (t) => { ran('Total'); return t.result('Clean').reduce((sum, value) => sum + value, 0); });
const other = new Task('Other')
  .process('run', () => { ran('Other'); return 'independent of the sales'; });

const pipeline = new Pipeline(process.env.PIPELINE ?? 'Team').add(load, cleaned, total, other);
const report = await pipeline.execute({ progress: false });
console.log(JSON.stringify({ statuses: Object.fromEntries(report.tasks.map((task) => [task.name, task.status])), total: await pipeline.getResult('Total') }));
await pipeline.close();
`;
const CLEAN = 'export function clean(values) { return values.filter((value) => value > 0); }\n';

const execFileAsync = promisify(execFile);

/** A copy of the project on one "machine": its own folder, file times and local cache folder. */
function machine(project: string): string {
  const folder = temporaryFolder('littlepipes-machine-');
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: project, type: 'module' }));
  fs.writeFileSync(path.join(folder, 'pipeline.mjs'), PIPELINE);
  fs.mkdirSync(path.join(folder, 'lib'));
  fs.writeFileSync(path.join(folder, 'lib', 'clean.mjs'), CLEAN);
  fs.mkdirSync(path.join(folder, 'data'));
  fs.writeFileSync(path.join(folder, 'data', 'sales.csv'), '10\n-3\n25\n7\n');
  fs.mkdirSync(path.join(folder, 'node_modules'));
  fs.symlinkSync(REPO, path.join(folder, 'node_modules', 'littlepipes'), 'dir');
  return folder;
}

/** Runs the pipeline in `folder` on the store; resolves to what it printed and which tasks it executed. */
async function run(folder: string, store: string, env: Record<string, string> = {}): Promise<{ statuses: Record<string, string>; total: number; executed: string[] }> {
  const executions = path.join(folder, 'executions.txt');
  fs.rmSync(executions, { force: true });
  // Each machine's local folder (its logs) is its own `.littlepipes`.
  const { LITTLEPIPES_DIR: _ignored, ...inherited } = process.env;
  const { stdout } = await execFileAsync(process.execPath, ['pipeline.mjs'], {
    cwd: folder,
    env: { ...inherited, CI: '1', NO_COLOR: '1', LITTLEPIPES_STORE: store, ...env },
  });
  const printed = JSON.parse(stdout.trim().split('\n').at(-1)!) as { statuses: Record<string, string>; total: number };
  const executed = fs.existsSync(executions) ? fs.readFileSync(executions, 'utf8').trim().split('\n') : [];
  return { ...printed, executed };
}

const ALL_RAN = { Load: 'ran', Clean: 'ran', Total: 'ran', Other: 'ran' };

for (const [kind, startServer] of Object.entries({ Redis: startRedis, PostgreSQL: startPostgres })) {
  describe(`a team cache on ${kind}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer();
    });
    after(() => server.stop());

    test('a teammate whose code and inputs match is served every result; what differs on one machine re-runs there only', { timeout: 120_000 }, async () => {
      const alice = machine('sales-analysis');
      const bob = machine('sales-analysis');

      const first = await run(alice, server.url);
      assert.deepEqual(first.statuses, ALL_RAN);
      assert.equal(first.total, 42);

      const served = await run(bob, server.url);
      assert.deepEqual(served.statuses, { Load: 'cached', Clean: 'cached', Total: 'cached', Other: 'cached' }, 'another folder, other file times: the same fingerprints');
      assert.deepEqual(served.executed, [], 'nothing executed on the second machine');
      assert.equal(served.total, 42);

      // Bob edits a helper: only the task that calls it, and what its result feeds, re-run.
      fs.writeFileSync(path.join(bob, 'lib', 'clean.mjs'), 'export function clean(values) { return values.filter((value) => value > 8); }\n');
      const edited = await run(bob, server.url);
      assert.deepEqual(edited.statuses, { Load: 'cached', Clean: 'ran', Total: 'ran', Other: 'cached' });
      assert.equal(edited.total, 35);

      // Alice's helper is still the old one: she is never served Bob's results, and gets her own.
      const back = await run(alice, server.url);
      assert.deepEqual(back.statuses, { Load: 'cached', Clean: 'ran', Total: 'ran', Other: 'cached' });
      assert.equal(back.total, 42);

      // Bob's data changes, keeping its size: contents decide, not sizes or times.
      fs.writeFileSync(path.join(bob, 'lib', 'clean.mjs'), CLEAN);
      fs.writeFileSync(path.join(bob, 'data', 'sales.csv'), '10\n-3\n25\n9\n');
      const newData = await run(bob, server.url);
      assert.deepEqual(newData.statuses, { Load: 'ran', Clean: 'ran', Total: 'ran', Other: 'cached' });
      assert.deepEqual(newData.executed, ['Load', 'Clean', 'Total']);
      assert.equal(newData.total, 44);
    });

    test('another project, or another pipeline of the same project, never gets the other\'s values', { timeout: 120_000 }, async () => {
      const alice = machine('forecasting');
      assert.deepEqual((await run(alice, server.url)).statuses, ALL_RAN);
      assert.deepEqual((await run(alice, server.url)).statuses, { Load: 'cached', Clean: 'cached', Total: 'cached', Other: 'cached' });

      const otherProject = machine('budgeting');
      assert.deepEqual((await run(otherProject, server.url)).statuses, ALL_RAN, 'same code and data, but another project');
      assert.deepEqual((await run(alice, server.url, { PIPELINE: 'TeamTwo' })).statuses, ALL_RAN, 'same project, another pipeline name');
      assert.deepEqual((await run(alice, server.url)).statuses, { Load: 'cached', Clean: 'cached', Total: 'cached', Other: 'cached' }, 'and the first is still there');
    });

    test('two pipelines of one process on one store close independently', async () => {
      const make = (name: string) => new Pipeline(name, { store: server.url, project: 'one-process', cacheDir: temporaryFolder() }).add(new Task('Load').process('run', () => name));
      const first = make('First');
      const second = make('Second');
      await first.execute({ progress: false });
      await second.execute({ progress: false });
      await first.close();
      assert.equal(await second.getResult('Load'), 'Second', 'closing one did not close the other\'s connection');
      assert.equal((await second.execute({ progress: false, force: true })).task('Load')?.status, 'ran');
      await second.close();
    });

    test('the longest task name, in a project with a long name, is stored and served', async () => {
      const name = 'T'.repeat(200);
      const make = () => new Pipeline('Long', { store: server.url, project: `@analytics-team/${'quarterly-'.repeat(6)}report`, cacheDir: temporaryFolder() }).add(new Task(name).process('run', () => 'kept'));
      const first = make();
      assert.equal((await first.execute({ progress: false })).task(name)?.status, 'ran');
      await first.close();
      const second = make();
      assert.equal((await second.execute({ progress: false })).task(name)?.status, 'cached');
      assert.equal(await second.getResult(name), 'kept');
      await second.close();
    });

    test('the command line uses the store that littlepipes.yaml names: a second copy of the project is served from it', { timeout: 120_000 }, async () => {
      const config = { 'littlepipes.yaml': `settings:\n  store: ${server.url}\n` };
      const first = await cli(makeProject(undefined, config), 'run');
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr + first.stdout, /Sales: 4 ran/);
      const second = await cli(makeProject(undefined, config), 'run');
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr + second.stdout, /Sales: 4 cached/);
    });
  });
}
