// Bad input to the interactive shell: a command typed wrongly shows one line that names what is
// wrong (a did-you-mean when something is close), the shell goes on, and what is cached stays.
// The shell is driven in-process through streams; the last tests pipe lines to `littlepipes shell`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError, LittlepipesError, Shell, ShellUsageError, Task, type Pipeline } from '../../lib/index.js';
import { makeProject } from '../cli/project.js';
import { testPipeline } from '../helpers.js';
import { STACK_LINE, assertStillCached, cachedPipeline, checkError, cliWithInput, oneErrorLine, run, shellSession, throwsError } from './helpers.js';

/** A shell on a pipeline with Load and Report cached, and Broken, which fails when run. */
async function session(name: string, options: { verbose?: boolean; setup?: Parameters<typeof shellSession>[1] } = {}) {
  const pipeline = (await cachedPipeline(name)).add(
    new Task('Broken').process('run', () => {
      throw new Error('no region column');
    }),
  );
  return { pipeline, ...(await shellSession(pipeline, options.setup, { verbose: options.verbose ?? false })) };
}

/** After a bad command: the shell still answers, and serves what was cached. */
async function goesOn(send: (line: string) => Promise<string>, pipeline: Pipeline<any>): Promise<void> {
  assert.match(await send('peek Report'), /ok/);
  await assertStillCached(pipeline);
}

test('an unknown command shows one line with a did-you-mean, and the shell goes on', async () => {
  const { pipeline, send, close } = await session('ShellUnknownCommand');
  assert.equal(await send('lst-tasks'), 'Unknown command "lst-tasks". Did you mean "list-tasks"? Type help for the list.');
  assert.equal(await send('frobnicate'), 'Unknown command "frobnicate". Type help for the list.');
  await goesOn(send, pipeline);
  await close();
});

test('peek of an unknown task is a ShellUsageError with a did-you-mean', async () => {
  const { pipeline, shell, send, close } = await session('ShellPeekUnknown');
  assert.equal(await send('peek Reprot'), 'There is no task named "Reprot". Did you mean "Report"?');
  checkError(shell.errors.at(-1), ShellUsageError, 'ERR_SHELL_USAGE', ['"Reprot"', 'Did you mean "Report"?']);
  assert.equal(await send('peek Zzzzzzzz'), 'There is no task named "Zzzzzzzz". Type list-tasks to see them.');
  await goesOn(send, pipeline);
  await close();
});

test('peek of a task that never ran says so, and which shell command computes it', async () => {
  const { pipeline, shell, send, close } = await session('ShellPeekNeverRan');
  assert.equal(await send('peek Broken'), 'Broken has no fresh result: it has never run. Type execute-one Broken to compute it.');
  checkError(shell.errors.at(-1), LittlepipesError, 'ERR_NO_FRESH_RESULT', ['Broken']);
  await goesOn(send, pipeline);
  await close();
});

test('execute-one without a name, or with two, says how to type it', async () => {
  const { pipeline, shell, send, close } = await session('ShellExecuteOneNoName');
  assert.equal(await send('execute-one'), 'execute-one needs a task name: execute-one NAME [--no-deps] [--force]');
  checkError(shell.errors.at(-1), ShellUsageError, 'ERR_SHELL_USAGE', ['execute-one needs a task name']);
  assert.match(await send('execute-one Load Report'), /^execute-one takes one task name, got 2 \(a name with spaces goes in quotes\)/);
  assert.equal(await send('execute-one Lod'), 'There is no task named "Lod". Did you mean "Load"?');
  await goesOn(send, pipeline);
  await close();
});

test('log with a bad level is an InvalidOptionError listing the levels, and the level is kept', async () => {
  const { pipeline, shell, send, close } = await session('ShellLogLevel');
  assert.equal(await send('log loud'), 'Pipeline "ShellLogLevel": logLevel must be one of trace, debug, info, warn, error, fatal, silent, got "loud" (string).');
  const error = checkError(shell.errors.at(-1), InvalidOptionError, 'ERR_INVALID_OPTION', ['"loud"']);
  assert.equal(error.option, 'logLevel');
  assert.equal(pipeline.logLevel, 'info');
  assert.match(await send('log info debug'), /^log takes one level: log trace\|debug\|info/);
  await goesOn(send, pipeline);
  await close();
});

test('clear-cache of an unknown task names it with a did-you-mean, and clears nothing (not even the known ones named with it)', async () => {
  const { pipeline, shell, send, close } = await session('ShellClearUnknown');
  assert.equal(await send('clear-cache Report Lod'), 'There is no task named "Lod". Did you mean "Load"?');
  checkError(shell.errors.at(-1), ShellUsageError, 'ERR_SHELL_USAGE', ['"Lod"']);
  await goesOn(send, pipeline);
  await close();
});

test('clear-cache with no names, or with . and names, says how to type it, and clears nothing', async () => {
  const { pipeline, send, close } = await session('ShellClearNothing');
  assert.equal(await send('clear-cache'), 'Name the tasks to clear: clear-cache NAME..., or clear-cache . for every task, or clear-cache --hard for everything.');
  assert.equal(await send('clear-cache . Load'), 'clear-cache . clears every task; name tasks or type ., not both.');
  assert.equal(await send('clear-cache --hard Load'), 'clear-cache --hard clears everything; name tasks or pass --hard, not both.');
  await goesOn(send, pipeline);
  await close();
});

test('execute with an unknown flag, an unknown task to skip, or a task name says what to type', async () => {
  const { pipeline, send, close } = await session('ShellExecuteBad');
  assert.equal(await send('execute --forse'), 'execute has no option --forse. Did you mean --force?');
  assert.equal(await send('execute --skip Reprot'), 'There is no task named "Reprot". Did you mean "Report"?');
  assert.equal(await send('execute Load'), 'execute runs every task that is not fresh and takes no task names; to run Load and what it needs, type execute-one Load.');
  await goesOn(send, pipeline);
  await close();
});

test('help, plan, quiet, validate and list-cache with wrong arguments each say how to type them', async () => {
  const { pipeline, send, close } = await session('ShellArguments');
  assert.equal(await send('help nope'), 'There is no command "nope". Type help for the list.');
  assert.equal(await send('plan Reprot'), 'There is no task named "Reprot". Did you mean "Report"?');
  assert.equal(await send('plan Load Report'), 'plan takes at most one task name: plan [NAME]');
  assert.equal(await send('quiet loud'), 'quiet takes on, off or nothing (to switch): quiet [on|off]');
  assert.equal(await send('validate now'), 'validate takes no arguments');
  assert.equal(await send('list-cache Load'), 'list-cache takes no task names: list-cache [--all]');
  assert.equal(await send('info Reprot'), 'There is no task named "Reprot". Did you mean "Report"?');
  await goesOn(send, pipeline);
  await close();
});

test('a failing task shows the report, then one line naming it and its log, without a stack', async () => {
  const { pipeline, shell, send, close } = await session('ShellFailingTask');
  const printed = await send('execute-one Broken');
  const last = printed.split('\n').at(-1)!;
  assert.match(last, /^1 task failed: Broken\. Broken: no region column\. Its log, with the stack: .*Broken\.log$/);
  assert.doesNotMatch(printed, STACK_LINE);
  checkError(shell.errors.at(-1), LittlepipesError, 'ERR_RUN_FAILED', ['Broken']);
  await goesOn(send, pipeline);
  await close();
});

test("a custom command's TypeError shows as one line without a stack (with one when verbose); a non-Error says what was thrown", async () => {
  const setup = (shell: Shell) => {
    shell.command('regions', { help: 'the regions', run: () => (undefined as unknown as { keys(): void }).keys() });
    shell.command('nothing', {
      help: 'throws a string',
      run: () => {
        throw 'no regions';
      },
    });
  };
  const quiet = await session('ShellCustomQuiet', { setup });
  const shown = await quiet.send('regions');
  assert.match(shown, /^TypeError: Cannot read properties of undefined \(reading 'keys'\)$/);
  assert.equal(await quiet.send('nothing'), 'The command threw "no regions" (string), not an Error.');
  await goesOn(quiet.send, quiet.pipeline);
  await quiet.close();

  const verbose = await session('ShellCustomVerbose', { setup, verbose: true });
  assert.match(await verbose.send('regions'), STACK_LINE, 'a verbose shell shows the stack of errors that are not littlepipes\' own');
  await verbose.close();
});

test('new Shell() with an unknown option, a pipeline that is not one, or a bad title is an InvalidOptionError naming it', () => {
  const pipeline = testPipeline('ShellOptions').add(run('Load', 1));
  const unknown = throwsError(() => new Shell({ pipeline, promt: '> ' } as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'new Shell(): unknown option "promt".', 'Did you mean "prompt"?');
  assert.equal(unknown.option, 'promt');
  const notPipeline = throwsError(() => new Shell({ pipeline: 'Sales' } as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'new Shell(): pipeline must be a Pipeline, got "Sales" (string)');
  assert.equal(notPipeline.option, 'pipeline');
  throwsError(() => new Shell({ pipeline, title: 42 } as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'new Shell(): title must be a string, got 42 (number)');
});

test('shell.command() with a name of two words, or without run, is an InvalidOptionError naming the command', () => {
  const shell = new Shell({ pipeline: testPipeline('ShellCommandDefinition').add(run('Load', 1)) });
  throwsError(() => shell.command('count rows', { help: 'x', run: () => {} }), InvalidOptionError, 'ERR_INVALID_OPTION', 'a command name is one word of letters, digits, - and _, got "count rows" (string)');
  throwsError(() => shell.command('rows', { help: 'how many rows' } as never), InvalidOptionError, 'ERR_INVALID_OPTION', 'shell.command("rows"): expected { help: string, run(args, shell) }');
});

test('running a shell that is already running is an ERR_SHELL_RUNNING error, and the first one goes on', async () => {
  const { pipeline, shell, send, close } = await session('ShellTwice');
  const error = await shell.run().then(() => undefined, (reason: unknown) => reason);
  checkError(error, LittlepipesError, 'ERR_SHELL_RUNNING', ['this shell is already running']);
  await goesOn(send, pipeline);
  await close();
});

// ================================================================ littlepipes shell, with piped input

test('littlepipes shell with piped input: each bad line shows one line, and the next line still runs', async () => {
  const project = makeProject();
  const result = await cliWithInput(project, 'lst-tasks\npeek Totls\nexecute-one\nlog loud\nlist-tasks\n', 'shell');
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n');
  for (const expected of [
    'Unknown command "lst-tasks". Did you mean "list-tasks"? Type help for the list.',
    'There is no task named "Totls". Did you mean "Totals"?',
    'execute-one needs a task name: execute-one NAME [--no-deps] [--force]',
    'Pipeline "Sales": logLevel must be one of trace, debug, info, warn, error, fatal, silent, got "loud" (string).',
  ]) {
    assert.ok(lines.some((line) => line.endsWith(expected)), `"${expected}" in:\n${result.stdout}`);
  }
  assert.match(result.stdout, /Report +│? *not cached/, 'list-tasks, after the bad lines, still ran');
  assert.doesNotMatch(result.stdout + result.stderr, STACK_LINE);
});

test('littlepipes shell on a pipeline that cannot load exits 2 with one line naming the file', async () => {
  const project = makeProject("export const pipeline = 'Sales';\n");
  oneErrorLine(await cliWithInput(project, 'list-tasks\n', 'shell'), 2, 'pipeline.ts: its `pipeline` export is "Sales" (string), not a Pipeline.');
});
