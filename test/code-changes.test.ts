import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const library = pathToFileURL(path.join(root, 'lib', 'index.ts')).href;

/**
 * A small project of real modules, inside the repository so that packages resolve through its
 * node_modules. Each run is a separate Node process, as a user's would be.
 */
function project(files: Record<string, string>) {
  fs.mkdirSync(path.join(root, 'test', '.work'), { recursive: true });
  const folder = fs.mkdtempSync(path.join(root, 'test', '.work', 'code-'));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    fs.writeFileSync(path.join(folder, name), text);
  };
  for (const [name, text] of Object.entries(files)) write(name, text);
  return {
    folder,
    write,
    edit(name: string, change: (text: string) => string) {
      write(name, change(fs.readFileSync(path.join(folder, name), 'utf8')));
    },
    /** Runs a script in the project; what it prints last, as JSON. */
    inspect(script: string): unknown {
      write('inspect.ts', script);
      const child = spawnSync(process.execPath, ['--import', 'tsx', 'inspect.ts'], {
        cwd: folder,
        env: { ...process.env, LITTLEPIPES_DIR: path.join(folder, '.littlepipes') },
        encoding: 'utf8',
      });
      assert.equal(child.status, 0, child.stderr);
      return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    },
    /** Runs the pipeline; each task's status and reason. */
    run(): Record<string, { status: string; reason: string }> {
      const child = spawnSync(process.execPath, ['--import', 'tsx', 'pipeline.ts'], {
        cwd: folder,
        env: { ...process.env, LITTLEPIPES_DIR: path.join(folder, '.littlepipes') },
        encoding: 'utf8',
      });
      assert.equal(child.status, 0, child.stderr);
      return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    },
  };
}

const PIPELINE = `
import { Pipeline, Task } from '${library}';
import { clean } from './helpers.js';
import * as more from './more.js';
import { viaBarrel } from './barrel.js';
import leven from 'leven';

const pipeline = new Pipeline('Code').add(
  new Task('UsesHelper').process('run', () => clean(1)),
  new Task('Plain').process('run', () => 2),
  new Task('UsesNamespace').process('run', () => more.twice(3)),
  new Task('UsesBarrel').process('run', () => viaBarrel()),
  new Task('UsesPackage').process('run', () => leven('a', 'b')),
);
const report = await pipeline.execute({ progress: false });
console.log(JSON.stringify(Object.fromEntries(report.tasks.map((task) => [task.name, { status: task.status, reason: task.reason }]))));
await pipeline.close();
`;

const HELPERS = `// Helpers used by UsesHelper.
export function clean(value: number): number {
  return inner(value);
}

function inner(value: number): number {
  return value * RATE;
}

const RATE = 2;

export const unrelated = () => 'not used by any task';
`;

const FILES = {
  'pipeline.ts': PIPELINE,
  'helpers.ts': HELPERS,
  'more.ts': `export const twice = (x: number) => x * 2;\nexport const thrice = (x: number) => x * 3;\n`,
  'barrel.ts': `export * from './deep/impl.js';\n`,
  'deep/impl.ts': `export function viaBarrel() { return 'v1'; }\n`,
};

/** A pipeline module's text with `body` in place of its run. */
function withoutRun(pipeline: string, body: string): string {
  return pipeline.replace(/const report = await pipeline\.execute[\s\S]*$/, `${body}\nawait pipeline.close();\n`);
}

function statuses(result: Record<string, { status: string }>): Record<string, string> {
  return Object.fromEntries(Object.entries(result).map(([name, { status }]) => [name, status]));
}

const allCached = { UsesHelper: 'cached', Plain: 'cached', UsesNamespace: 'cached', UsesBarrel: 'cached', UsesPackage: 'cached' };

test('changing a helper two calls deep re-runs exactly the tasks that reach it, and names it', { timeout: 60_000 }, () => {
  const code = project(FILES);
  assert.deepEqual(Object.values(statuses(code.run())), ['ran', 'ran', 'ran', 'ran', 'ran']);
  assert.deepEqual(statuses(code.run()), allCached);
  code.edit('helpers.ts', (text) => text.replace('const RATE = 2;', 'const RATE = 3;'));
  const result = code.run();
  assert.deepEqual(statuses(result), { ...allCached, UsesHelper: 'ran' });
  assert.match(result.UsesHelper!.reason, /code changed: .*helpers\.ts#RATE/);
});

test('comments, whitespace, formatting and reordering unrelated declarations re-run nothing', { timeout: 60_000 }, () => {
  const code = project(FILES);
  code.run();
  code.edit('helpers.ts', (text) =>
    text
      .replace('// Helpers used by UsesHelper.', '/* A different comment. */')
      .replace('return inner(value);', 'return   inner( value );   // tidy later')
      .replace("export const unrelated = () => 'not used by any task';\n", '')
      .replace('export function clean', "export const unrelated = () => 'not used by any task';\n\nexport function clean"),
  );
  code.edit('pipeline.ts', (text) => text.replace("new Task('Plain').process('run', () => 2),", "new Task('Plain').process('run', () => 2 /* two */),"));
  assert.deepEqual(statuses(code.run()), allCached);
});

test('a formatter\'s edits re-run nothing: quote style, number spelling, parentheses, TypeScript-only wrappers', { timeout: 60_000 }, () => {
  const code = project(FILES);
  code.run();
  code.edit('helpers.ts', (text) =>
    text
      .replace('const RATE = 2;', 'const RATE = (0x2 as number);')
      .replace('return value * RATE;', 'return ((value! * RATE) satisfies number);')
      .replace("() => 'not used by any task'", '() => "not used by any task"'),
  );
  code.edit('more.ts', (text) => text.replace('x * 2', '(x) * 2.0'));
  code.edit('deep/impl.ts', (text) => text.replace("'v1'", '`v1`'));
  code.edit('pipeline.ts', (text) => text.replace("process('run', () => 2)", 'process("run", () => (0b10))'));
  assert.deepEqual(statuses(code.run()), allCached);
});

test('a function reached as a namespace member (import * as ns) is followed', { timeout: 60_000 }, () => {
  const code = project(FILES);
  code.run();
  code.edit('more.ts', (text) => text.replace('x * 3', 'x * 4'));
  assert.deepEqual(statuses(code.run()), allCached, 'an unused export changed: nothing runs');
  code.edit('more.ts', (text) => text.replace('x * 2', 'x + x'));
  assert.deepEqual(statuses(code.run()), { ...allCached, UsesNamespace: 'ran' });
});

test('a package linked into node_modules (a workspace, npm link) counts by its files too, as its version does not change', { timeout: 60_000 }, () => {
  const code = project({
    ...FILES,
    'packages/leven/package.json': JSON.stringify({ name: 'leven', version: '1.0.0', type: 'module', exports: './index.js' }),
    'packages/leven/index.js': 'export default function leven(a, b) { return a === b ? 0 : 1; }\n',
  });
  fs.mkdirSync(path.join(code.folder, 'node_modules'));
  fs.symlinkSync(path.join('..', 'packages', 'leven'), path.join(code.folder, 'node_modules', 'leven'), 'dir');
  code.run();
  assert.deepEqual(statuses(code.run()), allCached);
  code.edit('packages/leven/index.js', (text) => text.replace('? 0 : 1', '? 0 : 2'));
  const result = code.run();
  assert.deepEqual(statuses(result), { ...allCached, UsesPackage: 'ran' });
  assert.match(result.UsesPackage!.reason, /^code changed: package leven 1\.0\.0 \(linked, [\w-]{8}\) → 1\.0\.0 \(linked, [\w-]{8}\)$/);
});

test('a namespace used as a whole counts what it re-exports with export *', { timeout: 60_000 }, () => {
  const code = project({
    ...FILES,
    'pipeline.ts': PIPELINE.replace("import leven from 'leven';", "import leven from 'leven';\nimport * as everything from './barrel.js';")
      .replace("new Task('UsesPackage')", "new Task('UsesWhole').process('run', () => Object.values(everything).length),\n  new Task('UsesPackage')"),
  });
  code.run();
  code.edit('deep/impl.ts', (text) => text.replace("'v1'", "'v2'"));
  const result = code.run();
  assert.deepEqual(statuses(result), { ...allCached, UsesBarrel: 'ran', UsesWhole: 'ran' });
  assert.match(result.UsesWhole!.reason, /deep\/impl\.ts#viaBarrel/);
});

test('a function re-exported through export * is followed to its module', { timeout: 60_000 }, () => {
  const code = project(FILES);
  code.run();
  code.edit('deep/impl.ts', (text) => text.replace("'v1'", "'v2'"));
  const result = code.run();
  assert.deepEqual(statuses(result), { ...allCached, UsesBarrel: 'ran' });
  assert.match(result.UsesBarrel!.reason, /deep\/impl\.ts#viaBarrel/);
});

test('a package counts by its installed version, and a new version is named with both', { timeout: 60_000 }, () => {
  const code = project({
    ...FILES,
    'node_modules/leven/package.json': JSON.stringify({ name: 'leven', version: '1.0.0', type: 'module', exports: './index.js' }),
    'node_modules/leven/index.js': 'export default function leven(a, b) { return a === b ? 0 : 1; }\n',
  });
  code.run();
  code.write('node_modules/leven/package.json', JSON.stringify({ name: 'leven', version: '1.0.1', type: 'module', exports: './index.js' }));
  // Plan and explain name the package and both versions, as the run's reason does.
  const planned = code.inspect(withoutRun(PIPELINE, "console.log(JSON.stringify({ plan: (await pipeline.plan()).task('UsesPackage'), explain: await pipeline.explain('UsesPackage') }));")) as {
    plan: { action: string; reasons: { kind: string; changes: unknown[] }[] };
    explain: string;
  };
  assert.equal(planned.plan.action, 'run');
  assert.deepEqual(planned.plan.reasons[0]!.changes, [{ symbol: 'package leven', before: '1.0.0', after: '1.0.1' }]);
  assert.equal(planned.explain, 'UsesPackage will run: code changed: package leven 1.0.0 → 1.0.1');
  const result = code.run();
  assert.deepEqual(statuses(result), { ...allCached, UsesPackage: 'ran' });
  assert.equal(result.UsesPackage!.reason, 'code changed: package leven 1.0.0 → 1.0.1');
});

// The tasks in modules of their own: an unbounded import() makes every line of its module count, and what they load.
const PLUGINS = {
  'tasks.ts': `import { Pipeline, Task } from '${library}';
import { unbounded } from './unbounded.js';
const which: string = 'a';
export const pipeline = new Pipeline('Plugins').add(
  new Task('Concat').process('run', async () => (await import('./plug-' + which + '.mjs')).value()),
  new Task('Template').process('run', async () => (await import(\`./plugins/\${which}.js\`)).default()),
  new Task('Literal').process('run', async () => (await import('./other.mjs')).value()),
  unbounded,
);
`,
  'unbounded.ts': `import { Task } from '${library}';
const target: string = process.env.PLUGIN ?? './other.mjs';
export const unbounded = new Task('Unbounded').process('run', async () => (await import(target)).value());
`,
  'pipeline.ts': `
import { pipeline } from './tasks.js';
const report = await pipeline.execute({ progress: false });
console.log(JSON.stringify(Object.fromEntries(report.tasks.map((task) => [task.name, { status: task.status, reason: task.reason }]))));
await pipeline.close();
`,
  'plug-a.mjs': `import { shared } from './shared.mjs';\nexport const value = () => 'a' + shared;\n`,
  'plug-b.mjs': `export const value = () => 'b';\n`,
  'shared.mjs': `export const shared = 1;\n`,
  'plugins/a.ts': `export default function () { return 'a'; }\n`,
  'plugins/b.ts': `export default function () { return 'b'; }\n`,
  'other.mjs': `export const value = () => 'other';\n`,
};

const pluginsCached = { Concat: 'cached', Template: 'cached', Literal: 'cached', Unbounded: 'cached' };

test('an import() whose literal parts bound its path counts every file it can load, and what they import', { timeout: 90_000 }, () => {
  const code = project(PLUGINS);
  assert.deepEqual(Object.values(statuses(code.run())), ['ran', 'ran', 'ran', 'ran']);
  assert.deepEqual(statuses(code.run()), pluginsCached);
  // plug-b.mjs is not the one loaded today, but a run could load it.
  code.edit('plug-b.mjs', (text) => text.replace("'b'", "'B'"));
  let result = code.run();
  assert.deepEqual(statuses(result), { ...pluginsCached, Concat: 'ran' });
  assert.match(result.Concat!.reason, /code changed: .*plug-b\.mjs#/);
  code.edit('shared.mjs', (text) => text.replace('1', '2'));
  result = code.run();
  assert.deepEqual(statuses(result), { ...pluginsCached, Concat: 'ran' });
  assert.match(result.Concat!.reason, /shared\.mjs#shared/);
  code.write('plug-c.mjs', `export const value = () => 'c';\n`);
  result = code.run();
  assert.deepEqual(statuses(result), { ...pluginsCached, Concat: 'ran' }, 'a new file the pattern matches');
  assert.match(result.Concat!.reason, /tasks\.ts#import\(\.\/plug-\*\.mjs\)/);
  code.edit('plugins/b.ts', (text) => text.replace("'b'", "'B'"));
  assert.deepEqual(statuses(code.run()), { ...pluginsCached, Template: 'ran' }, 'a .js path loads the .ts file');
  code.edit('other.mjs', (text) => text.replace("'other'", "'changed'"));
  result = code.run();
  assert.deepEqual(statuses(result), { ...pluginsCached, Literal: 'ran' }, 'an import() of a literal path is followed; the unbounded one cannot see it');
  assert.match(result.Literal!.reason, /other\.mjs#/);
});

test('an import() no literal part bounds is a warning in plan and explain, every time, until the task declares what it loads', { timeout: 90_000 }, () => {
  const code = project(PLUGINS);
  code.run();
  const look = `import { pipeline } from './tasks.js';
    const plan = await pipeline.plan();
    console.log(JSON.stringify({ unbounded: plan.task('Unbounded'), concat: plan.task('Concat'), explain: await pipeline.explain('Unbounded') }));
    await pipeline.close();`;
  type Look = { unbounded: { action: string; warnings?: string[] }; concat: { warnings?: string[] }; explain: string };
  for (const seen of [code.inspect(look), code.inspect(look)] as Look[]) {
    assert.equal(seen.unbounded.action, 'cached');
    assert.equal(seen.unbounded.warnings?.length, 1, JSON.stringify(seen.unbounded));
    const warning = seen.unbounded.warnings![0]!;
    assert.match(warning, /^process run loads import\(target\) \((?:[\w.-]+\/)*unbounded\.ts:3\), whose path no literal part bounds/);
    assert.match(warning, /an edit to the module it loads does not re-run the task/);
    assert.match(warning, /declare the files it can load in the task's inputs, or the module in its sources/);
    assert.equal(seen.explain, `Unbounded is cached. Warning: ${warning}`);
    assert.equal(seen.concat.warnings, undefined, 'a bounded import() warns of nothing');
  }
  code.edit('unbounded.ts', (text) => text.replace("new Task('Unbounded')", "new Task('Unbounded', { sources: ['other.mjs'] })"));
  const declared = code.inspect(look) as Look;
  assert.equal(declared.unbounded.warnings, undefined, 'declared: no more warning');
});

test('code analysis cannot follow (eval) is handled conservatively and said so', { timeout: 60_000 }, () => {
  const code = project({
    ...FILES,
    'helpers.ts': HELPERS.replace('return value * RATE;', "return value * RATE * eval('1');"),
  });
  const first = code.run();
  assert.equal(first.UsesHelper!.status, 'ran');
  // A change anywhere in the module with eval re-runs the task that uses it, even in code it does not reach.
  code.edit('helpers.ts', (text) => text.replace("'not used by any task'", "'still not used'"));
  const result = code.run();
  assert.deepEqual(statuses(result), { ...allCached, UsesHelper: 'ran' });
  assert.match(result.UsesHelper!.reason, /helpers\.ts#\*/);
});

test('a long-lived process sees a helper edited with its size and mtime restored', { timeout: 60_000 }, () => {
  const code = project(FILES);
  // A notebook or watch mode: one process, two runs, the helper edited in between as cp -p would leave it.
  code.write('twice.ts', `
    import fs from 'node:fs';
    import { Pipeline, Task } from '${library}';
    import { clean } from './helpers.js';
    // A whole-second mtime, which utimes can restore exactly.
    const pinned = new Date(2024, 0, 2, 3, 4, 5);
    fs.utimesSync('helpers.ts', pinned, pinned);
    const pipeline = new Pipeline('Code').add(new Task('UsesHelper').process('run', () => clean(1)));
    await pipeline.execute({ progress: false });
    fs.writeFileSync('helpers.ts', fs.readFileSync('helpers.ts', 'utf8').replace('const RATE = 2;', 'const RATE = 3;'));
    fs.utimesSync('helpers.ts', pinned, pinned);
    const report = await pipeline.execute({ progress: false });
    console.log(JSON.stringify(report.task('UsesHelper')));
    await pipeline.close();`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'twice.ts'], { cwd: code.folder, encoding: 'utf8', env: { ...process.env, LITTLEPIPES_DIR: path.join(code.folder, '.littlepipes') } });
  assert.equal(child.status, 0, child.stderr);
  const second = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
  assert.equal(second.status, 'ran');
  assert.match(second.reason, /code changed: .*helpers\.ts#RATE/);
});

test('a helper module that does not parse is a clear error naming the task and the file, and loses nothing', { timeout: 60_000 }, () => {
  const code = project(FILES);
  code.run();
  // A long-lived process (a notebook, watch mode) imported the module; then it was broken on disk.
  code.write('broken.ts', `
    import fs from 'node:fs';
    import { Pipeline, Task, CodeAnalysisError } from '${library}';
    import * as more from './more.js';
    fs.appendFileSync('more.ts', 'export const broken = (;\\n');
    const pipeline = new Pipeline('Code').add(new Task('UsesNamespace').process('run', () => more.twice(3)));
    try { await pipeline.execute({ progress: false }); console.log('{}'); }
    catch (error) { console.log(JSON.stringify({ isClass: error instanceof CodeAnalysisError, code: error.code, message: error.message })); }
    await pipeline.close();`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'broken.ts'], { cwd: code.folder, encoding: 'utf8', env: { ...process.env, LITTLEPIPES_DIR: path.join(code.folder, '.littlepipes') } });
  assert.equal(child.status, 0, child.stderr);
  const outcome = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
  assert.equal(outcome.isClass, true, child.stdout);
  assert.equal(outcome.code, 'ERR_CODE_ANALYSIS');
  assert.match(outcome.message, /^UsesNamespace: cannot analyse .*more\.ts: .*\(line 3\)/);
  code.edit('more.ts', (text) => text.replace('export const broken = (;\n', ''));
  assert.deepEqual(statuses(code.run()), allCached, 'every cached result survived');
});

test('explain names the helper that changed, where it is, and its old and new hash', { timeout: 60_000 }, () => {
  const code = project(FILES);
  code.run();
  code.edit('helpers.ts', (text) => text.replace('const RATE = 2;', 'const RATE = 3;'));
  code.write('explain.ts', PIPELINE.replace(/const report = await pipeline\.execute[\s\S]*$/, "console.log(JSON.stringify(await pipeline.explain('UsesHelper')));\nawait pipeline.close();\n"));
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'explain.ts'], { cwd: code.folder, encoding: 'utf8', env: { ...process.env, LITTLEPIPES_DIR: path.join(code.folder, '.littlepipes') } });
  assert.equal(child.status, 0, child.stderr);
  const text = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
  // Paths are relative to the project root, the nearest package.json: here the repository's.
  assert.match(text, /^UsesHelper will run: code changed: (?:[\w.-]+\/)*helpers\.ts#RATE at (?:[\w.-]+\/)*helpers\.ts:10 \([0-9A-Za-z_-]{8} → [0-9A-Za-z_-]{8}\)$/);
});

test('a source file that cannot be read is a clear error naming the task and the file', { timeout: 60_000 }, () => {
  const code = project(FILES);
  code.run();
  // Root reads any file whatever its mode, so the task's module is replaced by a folder, which no one can read as text.
  code.write('definitions.ts', `
    import { Task } from '${library}';
    import * as more from './more.js';
    export const usesNamespace = new Task('UsesNamespace').process('run', () => more.twice(3));`);
  code.write('unreadable.ts', `
    import fs from 'node:fs';
    import { Pipeline } from '${library}';
    import { usesNamespace } from './definitions.js';
    fs.rmSync('definitions.ts');
    fs.mkdirSync('definitions.ts');
    const pipeline = new Pipeline('Code').add(usesNamespace);
    try { await pipeline.execute({ progress: false }); console.log('{}'); }
    catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); }
    await pipeline.close();`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'unreadable.ts'], { cwd: code.folder, encoding: 'utf8', env: { ...process.env, LITTLEPIPES_DIR: path.join(code.folder, '.littlepipes') } });
  assert.equal(child.status, 0, child.stderr);
  const outcome = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
  assert.equal(outcome.code, 'ERR_CODE_ANALYSIS');
  assert.match(outcome.message, /^UsesNamespace: cannot analyse .*definitions\.ts: cannot read it \(EISDIR\)/);
});
