// Bad input to the real command line (dist/cli/main.js in a temporary project): exit code 2 for
// bad usage or a pipeline that cannot load, 1 when a task fails; one line on stderr naming the
// wrong thing; never a stack. Bad commands leave the cache as it was.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cli, makeProject, SALES_PIPELINE } from '../cli/project.js';
import { STACK_LINE, oneErrorLine } from './helpers.js';

/** A project whose pipeline has run once: everything cached. Bad commands must not change that. */
const sales = makeProject();
const first = await cli(sales, 'run');
assert.equal(first.code, 0, first.stderr);

/** Asserts everything in the project is still cached: `plan --check` finds nothing to run, `show Report` serves it. */
async function assertStillCached(project: string): Promise<void> {
  const plan = await cli(project, 'plan', '--check');
  assert.equal(plan.code, 0, `plan --check after a bad command:\n${plan.stdout}${plan.stderr}`);
  const shown = await cli(project, 'show', 'Report');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /north: 17/);
}

/** A project whose pipeline.ts is `source`. */
function projectWith(source: string): string {
  return makeProject(source);
}

describe('bad usage: exit 2, one line, nothing cached is lost', { concurrency: 4 }, () => {
  // Once every bad command of this group has been tried on the project.
  after(() => assertStillCached(sales));

  test('an unknown command (rnu) names it and suggests run', async () => {
    oneErrorLine(await cli(sales, 'rnu'), 2, "unknown command 'rnu'", 'Did you mean run?', 'See littlepipes --help.');
  });

  test('an unknown option (run --forse) names it and suggests --force', async () => {
    oneErrorLine(await cli(sales, 'run', '--forse'), 2, "unknown option '--forse'", 'Did you mean --force?', 'See littlepipes run --help.');
  });

  test('a missing argument (show without a task) says which, and where the usage is', async () => {
    oneErrorLine(await cli(sales, 'show'), 2, "missing required argument 'task'", 'See littlepipes show --help.');
  });

  test('an option value outside its choices (graph --format png) lists the choices', async () => {
    oneErrorLine(await cli(sales, 'graph', '--format', 'png'), 2, "argument 'png' is invalid", 'Allowed choices are ascii, mermaid, dot');
  });

  test('run --concurrency many asks for a whole number from 1, and runs nothing', async () => {
    oneErrorLine(await cli(sales, 'run', '--concurrency', 'many'), 2, '--concurrency must be a whole number from 1 up', 'got "many".');
  });

  test('run --executor of an unknown name lists the executors, and runs nothing', async () => {
    oneErrorLine(await cli(sales, 'run', '--force', '--executor', 'bulmq'), 2, "option '--executor <name>' argument 'bulmq' is invalid", 'Allowed choices are local, threads, bullmq', 'See littlepipes run --help.');
  });

  test('run --connection without --executor bullmq says to add it, and runs nothing', async () => {
    const advice = "--connection is the Redis URL of the bullmq executor's queue: add --executor bullmq, or leave --connection out.";
    oneErrorLine(await cli(sales, 'run', '--force', '--connection', 'redis://localhost:6379'), 2, advice);
    oneErrorLine(await cli(sales, 'run', '--force', '--executor', 'threads', '--connection', 'redis://localhost:6379'), 2, advice);
  });

  test('run --executor bullmq without a queue names the three ways to give one; with a queue that is not a Redis URL, says what one looks like', async () => {
    oneErrorLine(await cli(sales, 'run', '--force', '--executor', 'bullmq'), 2, 'run: the bullmq executor needs --connection, the Redis URL of its queue', '`littlepipes run --executor bullmq --connection redis://localhost:6379`, LITTLEPIPES_CONNECTION, or connection under settings in littlepipes.yaml.');
    oneErrorLine(await cli(sales, 'run', '--force', '--executor', 'bullmq', '--connection', 'localhost:6379'), 2, "connection must be a Redis URL such as 'redis://localhost:6379', got \"localhost:6379\" (string)");
  });

  test('run --executor bullmq on the local SQLite cache is refused before Redis is even tried, with the shared store to give instead', async () => {
    // Nothing listens on port 1: the refusal must come before any connection.
    oneErrorLine(await cli(sales, 'run', '--force', '--executor', 'bullmq', '--connection', 'redis://127.0.0.1:1'), 1,
      'Pipeline "Sales": the bullmq executor needs a store the workers share, and this pipeline\'s results live in the local SQLite file',
      "Give it a shared store by URL: new Pipeline('Sales', { store: 'redis://...' }), or LITTLEPIPES_STORE=redis://... in the environment of the coordinator and of every worker.");
  });

  for (const flag of ['--only', '--skip', '--force'] as const) {
    test(`run ${flag} with an unknown task names it with a did-you-mean, and runs nothing`, async () => {
      oneErrorLine(await cli(sales, 'run', flag, 'Totls'), 2, 'there is no task named "Totls"', 'Did you mean "Totals"?');
    });
  }

  test('plan --explain of an unknown task names it with a did-you-mean', async () => {
    oneErrorLine(await cli(sales, 'plan', '--explain', 'Clen'), 2, 'there is no task named "Clen"', 'Did you mean "Clean"?');
  });

  test('show of an unknown task names it with a did-you-mean', async () => {
    oneErrorLine(await cli(sales, 'show', 'Reprot'), 2, 'there is no task named "Reprot"', 'Did you mean "Report"?');
  });

  test('logs of an unknown task names it with a did-you-mean', async () => {
    oneErrorLine(await cli(sales, 'logs', 'Lod'), 2, 'there is no task named "Lod"', 'Did you mean "Load"?');
  });

  test('logs --lines x is refused before anything is read', async () => {
    oneErrorLine(await cli(sales, 'logs', 'Load', '--lines', 'x'), 2, '--lines must be a whole number from 1 up, got "x"');
  });

  test('history --limit 0 asks for a whole number from 1', async () => {
    oneErrorLine(await cli(sales, 'history', '--limit', '0'), 2, '--limit must be a whole number from 1 up, got "0"');
  });

  test('clear with nothing named says to name tasks or pass --all, and clears nothing', async () => {
    oneErrorLine(await cli(sales, 'clear'), 2, 'name the tasks to clear, or pass --all');
  });

  test('clear of an unknown task names it, and clears nothing (not even the known ones named with it)', async () => {
    oneErrorLine(await cli(sales, 'clear', 'Report', 'Totls'), 2, 'there is no task named "Totls"', 'Did you mean "Totals"?');
  });

  test('clear --all with task names is refused: one or the other', async () => {
    oneErrorLine(await cli(sales, 'clear', '--all', 'Report'), 2, 'name tasks or pass --all, not both');
  });

  test('run --html into a folder that does not exist is refused before anything runs', async () => {
    const page = path.join('no-such-folder', 'run.html');
    oneErrorLine(await cli(sales, 'run', '--force', '--html', page), 2, `--html ${page}: the folder`, 'does not exist');
    oneErrorLine(await cli(sales, 'graph', '--html', page), 2, `--html ${page}: the folder`, 'does not exist');
  });
});

describe('a pipeline that cannot be found or loaded: exit 2, one line naming the file', { concurrency: 4 }, () => {
  test('--pipeline naming a missing file names it', async () => {
    oneErrorLine(await cli(sales, 'run', '--pipeline', 'nope.ts'), 2, 'Pipeline file nope.ts does not exist', 'Check the path given to --pipeline');
  });

  test('package.json naming a missing file names both', async () => {
    const project = makeProject();
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ type: 'module', littlepipes: { pipeline: 'src/missing.ts' } }));
    oneErrorLine(await cli(project, 'plan'), 2, 'package.json names the pipeline "src/missing.ts"', `${path.join('src', 'missing.ts')} does not exist`, '"littlepipes": { "pipeline": ... }');
  });

  test('a malformed package.json names it and says to fix its JSON', async () => {
    const project = makeProject();
    fs.writeFileSync(path.join(project, 'package.json'), '{ "type": "module", "littlepipes": { ');
    oneErrorLine(await cli(project, 'plan'), 2, `Cannot read ${path.join(project, 'package.json')}`, 'Fix its JSON');
  });

  test('"littlepipes.pipeline" that is not a path names the field and the value', async () => {
    const project = makeProject();
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ type: 'module', littlepipes: { pipeline: 5 } }));
    oneErrorLine(await cli(project, 'plan'), 2, '"littlepipes.pipeline" must be a file path such as "pipeline.ts", got 5');
  });

  test('a pipeline file that throws at import names the file and the line', async () => {
    const project = projectWith("import { Pipeline } from 'littlepipes';\nconst rows = JSON.parse('{oops');\nexport const pipeline = new Pipeline('X');\n");
    oneErrorLine(await cli(project, 'run'), 2, 'Cannot load the pipeline pipeline.ts:', 'JSON', '(at pipeline.ts:2)', 'Fix the module and try again');
  });

  test('a pipeline file that throws a non-Error says what it threw', async () => {
    oneErrorLine(await cli(projectWith("throw 'no database';\n"), 'run'), 2, 'Cannot load the pipeline pipeline.ts: it threw "no database" (string)');
  });

  test('a pipeline file with a syntax error gives the file, the line, the column and the parser message on one line', async () => {
    const project = projectWith("import { Pipeline } from 'littlepipes';\nexport const pipeline = new Pipeline('X'\nconst rows = ;\n");
    oneErrorLine(await cli(project, 'run'), 2, 'Cannot load the pipeline pipeline.ts: a syntax error at pipeline.ts:3:1: Expected `,` or `)` but found `const`. Fix the module and try again.');
  });

  test('a syntax error in a .ts helper that a pipeline module imports names the helper, its line and column', async () => {
    const pipeline = "import { Pipeline } from 'littlepipes';\nimport { rows } from './lib/rows.js';\nexport const pipeline = new Pipeline('S');\nvoid rows;\n";
    const project = makeProject(pipeline, { 'lib/rows.ts': 'export const first: number = 1;\n\nexport const rows = [1, 2;\n' });
    oneErrorLine(await cli(project, 'run'), 2, `Cannot load the pipeline pipeline.ts: a syntax error at ${path.join('lib', 'rows.ts')}:3:26: Expected \`,\` or \`]\` but found \`;\`. Fix the module and try again.`);
  });

  const esmSyntaxError = "import { Pipeline } from 'littlepipes';\nexport const pipeline = new Pipeline('S';\n";
  const cjsSyntaxError = "const { Pipeline } = require('littlepipes');\nexports.pipeline = new Pipeline('S';\n";
  for (const [file, source, column] of [['p.mjs', esmSyntaxError, 38], ['p.js', esmSyntaxError, 38], ['p.cjs', cjsSyntaxError, 33]] as const) {
    test(`a ${path.extname(file)} pipeline file with a syntax error gives the file, the line and Node's message, as a .ts one does`, async () => {
      const project = makeProject(undefined, { [file]: source });
      oneErrorLine(await cli(project, 'run', '--pipeline', file), 2, `Cannot load the pipeline ${file}: a syntax error at ${file}:2:${column}: missing ) after argument list.`, 'Fix the module and try again');
    });
  }

  test('a syntax error in a .mjs helper that a pipeline module imports names the helper, its line and Node\'s message', async () => {
    const pipeline = "import { Pipeline } from 'littlepipes';\nimport { rows } from './lib/rows.mjs';\nexport const pipeline = new Pipeline('S');\nvoid rows;\n";
    const project = makeProject(pipeline, { 'lib/rows.mjs': 'export const first = 1;\n\nexport const rows = [1, 2;\n', 'p.mjs': pipeline });
    for (const file of ['pipeline.ts', 'p.mjs']) {
      oneErrorLine(await cli(project, 'run', '--pipeline', file), 2, `Cannot load the pipeline ${file}: a syntax error at ${path.join('lib', 'rows.mjs')}:3:`, "Unexpected token ';'");
    }
  });

  test('a pipeline file importing a missing module names the module', async () => {
    const project = projectWith("import { Pipeline } from 'littlepipes';\nimport { clean } from './steps/clean.js';\nexport const pipeline = new Pipeline('X');\nvoid clean;\n");
    oneErrorLine(await cli(project, 'run'), 2, 'Cannot load the pipeline pipeline.ts:', 'Cannot find module', 'steps/clean');
  });

  test('a pipeline module without a pipeline export lists what it exports', async () => {
    const project = projectWith("import { Pipeline } from 'littlepipes';\nexport const sales = new Pipeline('X');\n");
    oneErrorLine(await cli(project, 'run'), 2, 'pipeline.ts exports no pipeline (it exports sales)', "export const pipeline = new Pipeline('Name')");
  });

  test('a pipeline export that is not a Pipeline says what it is', async () => {
    oneErrorLine(await cli(projectWith('export const pipeline = 5;\n'), 'run'), 2, 'pipeline.ts: its `pipeline` export is 5 (number), not a Pipeline.');
    oneErrorLine(await cli(projectWith("import { Pipeline } from 'littlepipes';\nexport default () => new Pipeline('X');\n"), 'run'), 2, 'pipeline.ts: its default export is a function, not a Pipeline.');
  });

  test('a task defined wrongly in the module is named, with a did-you-mean, and the line', async () => {
    const project = projectWith("import { Pipeline, Task } from 'littlepipes';\nexport const pipeline = new Pipeline('X').add(new Task('Load', { dependecies: [] }).process('run', () => 1));\n");
    oneErrorLine(await cli(project, 'run'), 2, 'Task "Load": unknown option "dependecies". Did you mean "dependencies"?', '(at pipeline.ts:2)');
  });

  test('a Pipeline option that is wrong in the module (a store URL of an unknown scheme) names the option', async () => {
    const project = projectWith("import { Pipeline, Task } from 'littlepipes';\nexport const pipeline = new Pipeline('X', { store: 'mysql://localhost:3306/cache' }).add(new Task('Load').process('run', () => 1));\n");
    oneErrorLine(await cli(project, 'run'), 2, 'Pipeline "X": store URL "mysql://localhost:3306/cache" has the scheme "mysql:"', 'use one of redis://, rediss://, postgres://, postgresql://');
  });

  test('a cycle of three exits 2 with the cycle path, and no stack', async () => {
    const project = projectWith(`import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Cycle').add(
  new Task('A', { dependencies: ['C'] }).process('run', () => 1),
  new Task('B', { dependencies: ['A'] }).process('run', () => 2),
  new Task('C', { dependencies: ['B'] }).process('run', () => 3),
);`);
    const result = await cli(project, 'run');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^littlepipes: Pipeline "Cycle" cannot run; fix this problem:\n {2}- Tasks depend on each other in a cycle: A -> C -> B -> A/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  });
});

describe('failures at run time: exit 1, one line', { concurrency: 4 }, () => {
  test('show of a task that never ran says so, and which command computes it', async () => {
    oneErrorLine(await cli(makeProject(), 'show', 'Report'), 1, 'Report has no fresh result: it has never run.', 'Run `littlepipes run Report` to compute it.');
  });

  test('a task returning a function: exit 1, one line naming it (the report goes to stdout with --json), the others are cached', async () => {
    const project = projectWith(SALES_PIPELINE.replace("return totals;", 'return () => totals;'));
    const result = await cli(project, 'run', '--json');
    oneErrorLine(result, 1, '1 task failed: Totals.', 'Totals: result is a function');
    const report = JSON.parse(result.stdout) as { tasks: { name: string; status: string }[] };
    assert.deepEqual(Object.fromEntries(report.tasks.map((task) => [task.name, task.status])), { Load: 'ran', Clean: 'ran', Totals: 'failed', Report: 'blocked' });
    assert.equal((await cli(project, 'show', 'Clean')).code, 0, 'what ran before the failure is cached');
  });
});
