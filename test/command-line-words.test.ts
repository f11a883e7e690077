// Each surface speaks its own language. On the command line, a message names the command and
// its argument or flag (`run --skip`, `--concurrency`, `littlepipes logs Totals`); in the API, the
// function and the option (`execute({ skip })`, `getResult()`, `error.report`). A failure names
// the task once, in sentences that end where they should.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineRunError, Task, UnknownTaskError } from '../lib/index.js';
import { oneErrorLine, rejectsWith } from './bad-inputs/helpers.js';
import { cli, makeProject, SALES_PIPELINE } from './cli/project.js';
import { testPipeline } from './helpers.js';

/** What an API call looks like inside a message: `execute({ only })`, `pipeline.getResult()`, `error.report`. */
const API_WORDS = /\b(?:execute|plan|explain|getResult|getTask|logFile|clear|exportResult)\((?:\{[^}]*\})?\)|\bpipeline\.\w+|error\.report/;

const sales = makeProject();
const first = await cli(sales, 'run');
assert.equal(first.code, 0, first.stderr);

/** Asserts one error line that holds `expected`, and no API call. */
async function saysOnTheCommandLine(args: string[], code: number, ...expected: string[]): Promise<void> {
  const line = oneErrorLine(await cli(sales, ...args), code, ...expected);
  assert.doesNotMatch(line, API_WORDS, `littlepipes ${args.join(' ')}`);
}

test('an unknown task on the command line names the command and the flag it was given to, never the API call', async () => {
  await saysOnTheCommandLine(['run', 'Reprt'], 2, 'littlepipes: run: there is no task named "Reprt". Did you mean "Report"?');
  await saysOnTheCommandLine(['run', '--only', 'Reprt'], 2, 'littlepipes: run: there is no task named "Reprt". Did you mean "Report"?');
  await saysOnTheCommandLine(['run', '--skip', 'Nope'], 2, 'littlepipes: run --skip: there is no task named "Nope". `littlepipes plan --all` lists the tasks.');
  await saysOnTheCommandLine(['run', '--force', 'Nope'], 2, 'littlepipes: run --force: there is no task named "Nope".');
  await saysOnTheCommandLine(['plan', 'Nope'], 2, 'littlepipes: plan: there is no task named "Nope".');
  await saysOnTheCommandLine(['plan', '--explain', 'Clen'], 2, 'littlepipes: plan --explain: there is no task named "Clen". Did you mean "Clean"?');
  await saysOnTheCommandLine(['show', 'Nope'], 2, 'littlepipes: show: there is no task named "Nope".');
  await saysOnTheCommandLine(['logs', 'Nope'], 2, 'littlepipes: logs: there is no task named "Nope".');
  await saysOnTheCommandLine(['clear', 'Nope'], 2, 'littlepipes: clear: there is no task named "Nope".');
  await saysOnTheCommandLine(['export', 'Nope', 'nope.csv'], 2, 'littlepipes: export: there is no task named "Nope".');
});

test('a bad option value on the command line names the flag, not the option of execute()', async () => {
  await saysOnTheCommandLine(['run', '--concurrency', '0'], 2, 'littlepipes: --concurrency must be a whole number from 1 up, got "0". Try ');
  await saysOnTheCommandLine(['run', '--concurrency', 'many'], 2, 'littlepipes: --concurrency must be a whole number from 1 up, got "many". Try ');
  await saysOnTheCommandLine(['show', 'Report', '--profile', 'quick'], 2, 'littlepipes: show: --profile "quick" needs a littlepipes.yaml');
  await saysOnTheCommandLine(['run', '--force', '--executor', 'bullmq', '--connection', 'localhost:6379'], 2, 'littlepipes: run: --connection must be a Redis URL');
  await saysOnTheCommandLine(['run', '--force', '--executor', 'bullmq'], 2, 'littlepipes: run: the bullmq executor needs --connection', '`littlepipes run --executor bullmq --connection redis://localhost:6379`');
});

test('a failed run on the command line names the failed task once, ends its sentences, and points to littlepipes logs, not error.report', async () => {
  const failing = makeProject(SALES_PIPELINE.replace('return totals;', "throw new Error('no region column');"));
  const result = await cli(failing, 'run');
  assert.equal(result.code, 1);
  const [line] = result.stderr.split('\n').filter((text) => text.startsWith('littlepipes: '));
  assert.equal(line, 'littlepipes: 1 task failed: Totals. Totals: no region column. `littlepipes logs Totals` shows its log, with the stack.');

  // The error of a result that cannot be cached starts with the task's name already.
  const uncacheable = await cli(makeProject(SALES_PIPELINE.replace('return totals;', 'return () => totals;')), 'run');
  const [named] = uncacheable.stderr.split('\n').filter((text) => text.startsWith('littlepipes: '));
  assert.match(named!, /^littlepipes: 1 task failed: Totals\. Totals: result is a function\./);
  assert.doesNotMatch(named!, /Totals: Totals/);
  assert.doesNotMatch(named!, API_WORDS);
});

test('in the API, the messages keep the API\'s words: the call, the option, pipeline.tasks, error.report', async () => {
  const pipeline = testPipeline('ApiWords').add(new Task('Keep').process('run', () => 1));
  // @ts-expect-error an unknown name is a compile error too; this is the run-time check
  await rejectsWith(pipeline.getResult('Nope'), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'pipeline.getResult(): there is no task named "Nope". Check the spelling against pipeline.tasks.');
  await rejectsWith(pipeline.execute({ progress: false, skip: ['Nope'] }), UnknownTaskError, 'ERR_UNKNOWN_TASK', 'execute({ skip }): there is no task named "Nope".');
});

test('a failed run\'s error in the API ends each sentence and names the task once', async () => {
  const pipeline = testPipeline('FailureSentences').add(
    new Task('Forecast').process('run', () => {
      throw new Error('no rows in the forecast');
    }),
    new Task('Slow', { timeout: 20 }).process('run', (t) => new Promise((resolve) => t.signal.addEventListener('abort', resolve))),
  );
  const forecast = await rejectsWith(pipeline.execute({ progress: false, only: ['Forecast'] }), PipelineRunError, 'ERR_RUN_FAILED');
  assert.equal(forecast.message, '1 task failed: Forecast. Forecast: no rows in the forecast. See error.report for every task, and the task logs for stacks.');
  const slow = await rejectsWith(pipeline.execute({ progress: false, only: ['Slow'] }), PipelineRunError, 'ERR_RUN_FAILED');
  assert.equal(slow.message, '1 task failed: Slow. Slow timed out after 20 ms (its timeout option). Raise the timeout, or make the task faster. See error.report for every task, and the task logs for stacks.');
});

test('the remedies of an API message become commands on the command line: pipeline.clear([...]) is littlepipes clear, execute({ ... }) is littlepipes run', async () => {
  const { Command } = await import('commander');
  const { CacheStoreError, InvalidOptionError } = await import('../lib/index.js');
  const { inCommandLineWords } = await import('../lib/cli/command-line-words.js');
  const program = new Command('littlepipes');
  const run = program.command('run').option('--connection <url>').option('--profile <name>');
  assert.equal(
    inCommandLineWords(new CacheStoreError("The cached result of Big Table (blob 1) is missing from .littlepipes. Clear it with pipeline.clear(['Big Table']) and run again."), run),
    "The cached result of Big Table (blob 1) is missing from .littlepipes. Clear it with `littlepipes clear 'Big Table'` and run again.",
  );
  assert.equal(
    inCommandLineWords(new InvalidOptionError('profile', 'execute(): profile "x" needs a littlepipes.yaml at the project root (/p), and there is none.'), run),
    'run: --profile "x" needs a littlepipes.yaml at the project root (/p), and there is none.',
  );
  assert.equal(inCommandLineWords(new Error('execute(): not ours'), run), 'execute(): not ours', 'an error littlepipes did not throw is left as it is');
});
