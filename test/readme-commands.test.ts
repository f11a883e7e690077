import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLI, REPO, cli, makeProject, start } from './cli/project.js';

/** The `npx littlepipes ...` lines of the README's command-line block, without their comments. */
function readmeCommands(): string[][] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const block = /This repository's package\.json names `samples\/pipeline\.ts`[^\n]*\n\n```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'the README has the command-line block');
  return block[1]!.trim().split('\n').map((line) => line.replace(/#.*$/, '').trim().split(/\s+/).slice(2));
}

/** samples/pipeline.ts in a project of its own, as the README's package.json names it. */
function sampleProject(): string {
  return makeProject(fs.readFileSync(path.join(REPO, 'samples', 'pipeline.ts'), 'utf8'));
}

test('every command of the README\'s command-line block runs on samples/pipeline.ts, in the order shown', { timeout: 300_000 }, async () => {
  const commands = readmeCommands();
  assert.ok(commands.length >= 20, `the block has the ${commands.length} commands it shows`);
  const project = sampleProject();
  for (const args of commands) {
    const shown = `littlepipes ${args.join(' ')}`;
    if (args[0] === 'watch') {
      const watch = start(project, ...args);
      try {
        await watch.waitFor('Watching for changes');
        assert.match(watch.output(), /Sales: /, shown);
        watch.child.kill('SIGINT');
        assert.equal(await new Promise((resolve) => watch.child.once('exit', resolve)), 130, shown);
      } finally {
        watch.child.kill('SIGKILL');
      }
      continue;
    }
    if (args[0] === 'shell') {
      const output = await new Promise<string>((resolve, reject) => {
        const child = execFile(process.execPath, [CLI, ...args], { cwd: project, env: { ...process.env, NO_COLOR: '1', CI: '1' }, timeout: 60_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
        child.stdin!.end('list-tasks\nquit\n');
      });
      assert.match(output, /Report +│ cached/, shown);
      continue;
    }
    const redirect = args.indexOf('>');
    const result = await cli(project, ...(redirect >= 0 ? args.slice(0, redirect) : args));
    assert.equal(result.code, 0, `${shown} exits 0:\n${result.stderr}`);
    assert.ok(`${result.stdout}${result.stderr}`.trim().length > 0, `${shown} prints something`);
    if (redirect >= 0) fs.writeFileSync(path.join(project, args[redirect + 1]!), result.stdout);
  }
  assert.equal((JSON.parse(fs.readFileSync(path.join(project, 'run.json'), 'utf8')) as { pipeline: string }).pipeline, 'Sales');
  for (const page of ['run.html', 'pipeline.html']) assert.match(fs.readFileSync(path.join(project, page), 'utf8'), /data-task="Report"/);
});

/** The README's quick start: its pipeline.ts, the commands it runs with what each prints, and the edit it makes. */
function quickStart(): { source: string; commands: { args: string[]; shows: string }[]; edit: [string, string] } {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = /\n## Quick start\n([\s\S]*?)\n## /.exec(readme)?.[1];
  assert.ok(section, 'the README has a quick start');
  const source = /Save this as `pipeline\.ts`:\n\n```ts\n([\s\S]*?)```/.exec(section)?.[1];
  const block = /```sh\n(npx littlepipes [\s\S]*?)```/.exec(section)?.[1];
  const edit = /make `([^`]+)` read `([^`]+)`/.exec(section);
  assert.ok(source && block && edit, 'the quick start shows pipeline.ts, the commands to run it, and an edit');
  const commands = block.trim().split('\n').map((line) => {
    const [command, shows] = line.split('#').map((part) => part.trim());
    return { args: command!.split(/\s+/).slice(2), shows: shows! };
  });
  return { source, commands, edit: [edit[1]!, edit[2]!] };
}

test('the README\'s quick start does what it says: both tasks run, then both are cached, and an edit of Totals runs Totals alone', async () => {
  const { source, commands, edit } = quickStart();
  const project = makeProject(source);
  // What `npm init -y && npm pkg set type=module` leaves that matters here: no "littlepipes" field, so ./pipeline.ts is found by its name.
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'sales', version: '1.0.0', type: 'module' }, null, 2));
  assert.ok(commands.length >= 3, 'the quick start runs, runs again and shows a result');
  for (const { args, shows } of commands) {
    const shown = `littlepipes ${args.join(' ')}`;
    const result = await cli(project, ...args);
    assert.equal(result.code, 0, `${shown} exits 0:\n${result.stderr}`);
    assert.ok(`${result.stdout}${result.stderr}`.includes(shows), `${shown} prints ${shows}:\n${result.stdout}${result.stderr}`);
  }
  const edited = source.replace(edit[0], edit[1]);
  assert.notEqual(edited, source, 'the quick start\'s edit applies to its pipeline.ts');
  fs.writeFileSync(path.join(project, 'pipeline.ts'), edited);
  const plan = await cli(project, 'plan');
  assert.match(`${plan.stdout}${plan.stderr}`, /Totals +│ will run +│ code changed/);
  const run = await cli(project, 'run');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Sales: 1 ran, 1 cached/);
});

test('run --skip keeps a task from running, its cached result serving its dependents; --concurrency 1 runs one task at a time', async () => {
  const project = sampleProject();
  assert.equal((await cli(project, 'run')).code, 0);
  assert.equal((await cli(project, 'clear', 'Clean')).code, 0);
  const skipped = await cli(project, 'run', '--skip', 'Orders', '--json');
  assert.equal(skipped.code, 0, skipped.stderr);
  const tasks = (JSON.parse(skipped.stdout) as { tasks: { name: string; status: string }[] }).tasks;
  assert.equal(tasks.find((task) => task.name === 'Orders')?.status, 'skipped');
  assert.equal(tasks.find((task) => task.name === 'Clean')?.status, 'ran');

  type Timed = { name: string; startMs: number; endMs: number };
  const intervals = async (concurrency: string) => {
    const result = await cli(project, 'run', '--force', '--concurrency', concurrency, '--json');
    assert.equal(result.code, 0, result.stderr);
    return (JSON.parse(result.stdout) as { tasks: Timed[] }).tasks.sort((a, b) => a.startMs - b.startMs);
  };
  const overlaps = (tasks: Timed[]) => tasks.some((task, index) => index > 0 && task.startMs < tasks[index - 1]!.endMs);
  // Orders (300 ms) and Rates (200 ms) overlap when they may; with --concurrency 1 no two tasks do.
  assert.ok(overlaps(await intervals('4')), 'by default Orders and Rates run at once');
  const serial = await intervals('1');
  assert.equal(serial.length, 6);
  assert.ok(!overlaps(serial), `one at a time: ${JSON.stringify(serial)}`);
});

test('littlepipes run takes its concurrency from littlepipes.yaml\'s settings, unless --concurrency says otherwise', async () => {
  const project = makeProject(fs.readFileSync(path.join(REPO, 'samples', 'pipeline.ts'), 'utf8'), { 'littlepipes.yaml': 'settings:\n  concurrency: 1\n' });
  type Timed = { startMs: number; endMs: number };
  const overlapping = async (...args: string[]) => {
    const result = await cli(project, 'run', '--force', '--json', ...args);
    assert.equal(result.code, 0, result.stderr);
    const tasks = (JSON.parse(result.stdout) as { tasks: Timed[] }).tasks.sort((a, b) => a.startMs - b.startMs);
    return tasks.some((task, index) => index > 0 && task.startMs < tasks[index - 1]!.endMs);
  };
  assert.equal(await overlapping(), false, 'settings.concurrency 1: one task at a time');
  assert.equal(await overlapping('--concurrency', '4'), true, '--concurrency 4 lets Orders and Rates run at once');
});

test('plan --all lists the cached tasks too', async () => {
  const project = sampleProject();
  await cli(project, 'run');
  const short = await cli(project, 'plan');
  assert.match(short.stdout, /Everything is up to date/);
  const all = await cli(project, 'plan', '--all');
  assert.equal(all.code, 0);
  for (const name of ['Orders', 'Rates', 'Clean', 'ByRegion', 'TopProducts', 'Report']) assert.match(all.stdout, new RegExp(`${name} +│ cached`));
});

test('a JavaScript pipeline module works as a TypeScript one does', async () => {
  const project = makeProject(`import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Plain').add(new Task('One').process('run', () => 1), new Task('Two', { dependencies: ['One'] }).process('run', (t) => t.result('One') + 1));
`);
  fs.renameSync(path.join(project, 'pipeline.ts'), path.join(project, 'pipeline.js'));
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'plain', type: 'module', littlepipes: { pipeline: 'pipeline.js' } }));
  const run = await cli(project, 'run');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Plain: 2 ran/);
  assert.equal((await cli(project, 'show', 'Two')).stdout.trim().split('\n').at(-1), '2');
});
