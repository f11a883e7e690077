/**
 * Startup: the packages a run does not always need are loaded when they are used, not when
 * littlepipes is imported. Each scenario is a real child process of the built package (npm test
 * builds first) in a user's project, with a recorder that lists every package the process loaded:
 * ES modules through a module.register load hook, CommonJS ones from require.cache at exit
 * (Node 20's hooks do not see require()).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CLI, makeProject } from './cli/project.js';

/** What a plain pipeline never needs: each has its one use. */
const OPTIONAL = ['ora', 'yaml', 'cli-table3', 'dbgate-query-splitter', 'pino-pretty', 'chokidar', 'piscina', 'tinyglobby', 'hyparquet-writer', 'csv-stringify', 'apache-arrow', 'arquero', 'nodejs-polars', '@duckdb/node-api'];
/** Needed once a plan or a run starts, not by the import itself. */
const FIRST_PLAN = ['oxc-parser', 'hash-wasm'];

/** DuckDB as this repository has it (a development dependency): the project's SQL tasks connect with it. */
const DUCKDB = import.meta.resolve('@duckdb/node-api');

const RECORDER_HOOKS = `
import fs from 'node:fs';
export async function load(url, context, next) {
  fs.appendFileSync(process.env.LOADED_LIST, url + '\\n');
  return next(url, context);
}
`;
const RECORDER = `
import fs from 'node:fs';
import { createRequire, register } from 'node:module';
register(new URL('./recorder-hooks.mjs', import.meta.url));
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => fs.appendFileSync(process.env.LOADED_LIST, Object.keys(cache).join('\\n') + '\\n'));
`;

const run = promisify(execFile);

/** A user's project with the recorder beside its pipeline module. */
function project(files: Record<string, string> = {}): string {
  return makeProject(undefined, { 'recorder.mjs': RECORDER, 'recorder-hooks.mjs': RECORDER_HOOKS, ...files });
}

interface Loaded {
  packages: Set<string>;
  stdout: string;
  /** stdout and stderr. */
  output: string;
}

/** The packages (by name, as in node_modules) whose files a process loaded. */
function packagesIn(list: string): Set<string> {
  const packages = new Set<string>();
  for (const line of list.split('\n')) {
    const match = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(decodeURIComponent(line));
    if (match) packages.add(match[1]!);
  }
  return packages;
}

/** Runs `node --import ./recorder.mjs ...args` in the project (optionally on a terminal, through `script`). */
function recorded(root: string, args: string[], options: { terminal?: boolean } = {}): Promise<Loaded> {
  const list = path.join(root, `loaded-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const env: NodeJS.ProcessEnv = { ...process.env, LOADED_LIST: list, NO_COLOR: '1' };
  delete env.CI;
  delete env.NODE_OPTIONS;
  delete env.LITTLEPIPES_DIR;
  const command = [process.execPath, '--import', './recorder.mjs', ...args];
  // A pseudo-terminal with a width, as a person's terminal has: progress shows a spinner there.
  const [file, argv] = options.terminal
    ? ['script', ['-qec', `stty cols 100 rows 30; ${command.map((part) => `'${part}'`).join(' ')}`, '/dev/null']]
    : [command[0]!, command.slice(1)];
  return new Promise((resolve, reject) => {
    execFile(file, argv as string[], { cwd: root, env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      resolve({ packages: packagesIn(fs.readFileSync(list, 'utf8')), stdout, output: stdout + stderr });
    });
  });
}

function assertNotLoaded(loaded: Loaded, names: readonly string[], what: string): void {
  const found = names.filter((name) => loaded.packages.has(name));
  assert.deepEqual(found, [], `${what} loaded ${found.join(', ')}`);
}

function assertLoaded(loaded: Loaded, names: readonly string[], what: string): void {
  const missing = names.filter((name) => !loaded.packages.has(name));
  assert.deepEqual(missing, [], `${what} did not load ${missing.join(', ')}; it loaded ${[...loaded.packages].sort().join(', ')}`);
}

const PLAIN_RUN = `
import { Pipeline, Task } from 'littlepipes';
const pipeline = new Pipeline('Plain', { cacheDir: '.littlepipes' })
  .add(new Task('Numbers').process('run', () => [1, 2, 3]))
  .add(new Task('Sum', { dependencies: ['Numbers'] }).process('run', (t) => t.result('Numbers').reduce((a, b) => a + b, 0)));
const plan = await pipeline.plan();
const report = await pipeline.execute({ progress: false });
const sum = await pipeline.getResult('Sum');
await pipeline.close();
console.log(JSON.stringify({ planned: plan.tasks.map((task) => task.action), ran: report.tasks.map((task) => task.status), sum }));
`;

test('importing littlepipes loads none of the packages a run may not need, nor the parser, the hasher or SQLite', async () => {
  const root = project({ 'import.mjs': "import { Pipeline } from 'littlepipes';\nconsole.log(typeof Pipeline);\n" });
  const loaded = await recorded(root, ['import.mjs']);
  assert.equal(loaded.stdout.trim(), 'function');
  assertLoaded(loaded, ['keyv'], 'importing littlepipes'); // The recorder sees what is loaded.
  assertNotLoaded(loaded, [...OPTIONAL, ...FIRST_PLAN, 'pino', 'commander', 'oxc-transform', 'tsx', '@keyv/sqlite', 'sqlite3'], 'importing littlepipes');
});

test('importing littlepipes loads none of Node\'s own modules it needs only later: streams, crypto, v8, child_process, readline', async () => {
  const script = "const before = new Set(process.moduleLoadList);\nawait import('littlepipes');\nconsole.log(JSON.stringify(process.moduleLoadList.filter((name) => !before.has(name))));\n";
  const root = project({ 'builtins.mjs': script });
  // Without the recorder, whose own imports would load some of them first.
  const { stdout } = await run(process.execPath, ['builtins.mjs'], { cwd: root });
  const modules = JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
  assert.ok(modules.some((name) => name.startsWith('NativeModule ')), `the list names Node's modules: ${modules.join(', ')}`);
  const found = modules.filter((name) => /^NativeModule (stream|crypto|v8|child_process|readline)$/.test(name));
  assert.deepEqual(found, [], `importing littlepipes loaded ${found.join(', ')}`);
});

test('planning and running a plain pipeline without progress loads none of the optional packages, nor pino while no task logs', async () => {
  const root = project({ 'plain.mjs': PLAIN_RUN, 'logs.mjs': PLAIN_RUN.replace("process('run', () => [1, 2, 3])", "process('run', (t) => { t.log.info('numbers'); return [1, 2, 3]; })") });
  const loaded = await recorded(root, ['plain.mjs']);
  assert.deepEqual(JSON.parse(loaded.stdout), { planned: ['run', 'run'], ran: ['ran', 'ran'], sum: 6 });
  assertLoaded(loaded, FIRST_PLAN, 'a plan and a run');
  assertNotLoaded(loaded, [...OPTIONAL, 'pino'], 'a plan and a run of a plain pipeline whose tasks log nothing');
  assertLoaded(await recorded(root, ['logs.mjs']), ['pino'], 'a run whose task logs a line');
});

test('progress on a terminal loads ora for its spinner and cli-table3 for the report table', async () => {
  const script = PLAIN_RUN.replace("execute({ progress: false })", 'execute()');
  const root = project({ 'spinner.mjs': script });
  const loaded = await recorded(root, ['spinner.mjs'], { terminal: true });
  assert.match(loaded.output, /Sum\s+│ ran/, 'the report table was printed on the terminal');
  assertLoaded(loaded, ['ora', 'cli-table3'], 'progress on a terminal');
  assertNotLoaded(loaded, ['yaml', 'dbgate-query-splitter', 'pino-pretty', 'chokidar', 'piscina'], 'progress on a terminal');
});

test('a littlepipes.yaml loads yaml, and its settings apply', async () => {
  const script = `
import { Pipeline, Task } from 'littlepipes';
const pipeline = new Pipeline('Configured').add(new Task('One').process('run', () => 1));
await pipeline.execute({ progress: false });
console.log(JSON.stringify({ cacheDir: pipeline.cacheDir }));
await pipeline.close();
`;
  const root = project({ 'config.mjs': script, 'littlepipes.yaml': 'settings:\n  cacheDir: .cache/configured\n' });
  const loaded = await recorded(root, ['config.mjs']);
  assert.equal(fs.realpathSync(JSON.parse(loaded.stdout).cacheDir), fs.realpathSync(path.join(root, '.cache', 'configured')));
  assertLoaded(loaded, ['yaml'], 'a project with littlepipes.yaml');
  assertNotLoaded(loaded, ['ora', 'cli-table3', 'dbgate-query-splitter', 'tinyglobby'], 'a project with littlepipes.yaml');
});

test('a SQL task loads dbgate-query-splitter, and glob inputs load tinyglobby', async () => {
  const script = `
import { Pipeline, Task, sqlTask } from 'littlepipes';
import { DuckDBInstance } from '${DUCKDB}';
const pipeline = new Pipeline('Queries', { cacheDir: '.littlepipes' })
  .provide('db', async () => (await DuckDBInstance.create(':memory:')).connect())
  .add(sqlTask('Answer', 'sql/answer.sql'))
  .add(new Task('Files', { inputs: ['data/*.csv'] }).process('run', () => 'read'));
await pipeline.execute({ progress: false });
console.log(JSON.stringify({ answer: await pipeline.getResult('Answer'), files: await pipeline.getResult('Files') }));
await pipeline.close();
`;
  const root = project({ 'sql.mjs': script, 'sql/answer.sql': '-- the answer\nselect 42 as answer;\n', 'data/a.csv': 'x\n1\n' });
  const loaded = await recorded(root, ['sql.mjs']);
  assert.deepEqual(JSON.parse(loaded.stdout), { answer: [{ answer: 42 }], files: 'read' });
  assertLoaded(loaded, ['dbgate-query-splitter', 'tinyglobby'], 'a SQL task and glob inputs');
  assertNotLoaded(loaded, ['ora', 'yaml', 'pino-pretty', 'chokidar', 'piscina'], 'a SQL task and glob inputs');
});

test('the command line compiles a TypeScript pipeline with oxc-transform, loads pino-pretty only for logs, and nothing of a pipeline for --version', async () => {
  const root = project();
  const version = await recorded(root, [CLI, '--version']);
  assert.equal(version.stdout.trim(), JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '..', '..', 'package.json'), 'utf8')).version);
  assertLoaded(version, ['commander'], 'littlepipes --version');
  assertNotLoaded(version, [...OPTIONAL, ...FIRST_PLAN, 'oxc-transform', 'tsx', 'keyv', 'pino'], 'littlepipes --version');

  const run = await recorded(root, [CLI, 'run']);
  assert.match(run.output, /Report\s+│ ran/);
  assertLoaded(run, ['oxc-transform', 'cli-table3'], 'littlepipes run');
  assertNotLoaded(run, ['ora', 'pino-pretty', 'chokidar', 'piscina', 'yaml', 'dbgate-query-splitter', 'tsx'], 'littlepipes run (not on a terminal)');

  const logs = await recorded(root, [CLI, 'logs', 'Load']);
  assert.match(logs.stdout, /loaded 4 rows/);
  assertLoaded(logs, ['pino-pretty'], 'littlepipes logs');
  assertNotLoaded(logs, ['ora', 'chokidar', 'piscina'], 'littlepipes logs');
});
