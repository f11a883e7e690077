// Formats given wrongly, and cached tables that cannot be read: a clear error, and the cache kept.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { InvalidOptionError, Pipeline, defineFormat } from '../../lib/index.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const valid = { name: 'money', version: 1, handles: (value: unknown): value is object => false, encode: () => new Uint8Array(), decode: () => ({}) };

for (const { change, fragments } of [
  { change: { name: undefined }, fragments: ['defineFormat(): name must be a word', 'got undefined'] },
  { change: { name: '9lives' }, fragments: ['defineFormat(): name must be a word', '"9lives"'] },
  { change: { version: 1.5 }, fragments: ['format "money" needs a version, a whole number', 'got 1.5'] },
  { change: { version: undefined }, fragments: ['format "money" needs a version'] },
  { change: { encode: 'bytes' }, fragments: ['format "money" needs encode to be a function', '"bytes"'] },
  { change: { decode: undefined }, fragments: ['format "money" needs decode to be a function'] },
  { change: { handle: () => true }, fragments: ['defineFormat(): unknown field "handle"', 'A format has name, version, handles, encode, decode'] },
] as { change: Record<string, unknown>; fragments: string[] }[]) {
  test(`defineFormat with ${JSON.stringify(Object.keys(change))} wrong is an InvalidOptionError: ${fragments[0]}`, () => {
    const format = { ...valid, ...change };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete (format as Record<string, unknown>)[key];
    assert.throws(() => defineFormat(format as never), (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError, String(error));
      for (const fragment of fragments) assert.ok(error.message.includes(fragment), `${fragment} in ${error.message}`);
      return true;
    });
  });
}

test('two formats with one name, or formats that are not an array, are an InvalidOptionError naming the pipeline', () => {
  assert.throws(() => new Pipeline('Sales', { formats: [defineFormat(valid), defineFormat({ ...valid })] }), (error: unknown) =>
    error instanceof InvalidOptionError && error.message.includes('Pipeline "Sales": two formats are named "money"'));
  assert.throws(() => new Pipeline('Sales', { formats: defineFormat(valid) as never }), (error: unknown) =>
    error instanceof InvalidOptionError && error.message.includes('Pipeline "Sales": formats must be an array of formats made with defineFormat()'));
});

/**
 * A project of its own: a copy of the built package in a folder whose node_modules links every
 * installed package, but apache-arrow only when `withArrow`.
 */
function project(withArrow: boolean): string {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'littlepipes-arrow-'));
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(modules, 'littlepipes'), { recursive: true });
  fs.cpSync(path.join(root, 'dist'), path.join(modules, 'littlepipes', 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(modules, 'littlepipes', 'package.json'));
  for (const name of fs.readdirSync(path.join(root, 'node_modules'))) {
    if ((name === 'apache-arrow' && !withArrow) || name === '.bin' || name === 'littlepipes') continue;
    fs.symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name));
  }
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  return dir;
}

/** The same pipeline module in each project, so that the task's fingerprint is the same; the table comes from the script that imports it. */
const PIPELINE = `
import { Pipeline, Task } from 'littlepipes';
const sales = new Task('Sales').process('run', () => globalThis.makeTable());
export const pipeline = (cacheDir) => new Pipeline('Tables', { cacheDir, logLevel: 'silent' }).add(sales);
`;

async function script(dir: string, body: string): Promise<string> {
  fs.writeFileSync(path.join(dir, 'pipeline.mjs'), PIPELINE);
  fs.writeFileSync(path.join(dir, 'script.mjs'), `import { pipeline } from './pipeline.mjs';\n${body}`);
  return (await run(process.execPath, ['script.mjs'], { cwd: dir })).stdout;
}

test('a cached table whose package the project no longer has names the package to install, and keeps the entry', async () => {
  const writer = project(true);
  const reader = project(false);
  const cacheDir = path.join(writer, '.cache');
  try {
    await script(writer, `import { tableFromArrays } from 'apache-arrow';
      globalThis.makeTable = () => tableFromArrays({ a: Int32Array.from([1, 2, 3]) });
      const p = pipeline(${JSON.stringify(cacheDir)}); await p.execute({ progress: false }); await p.close();`);
    const out = await script(reader, `const p = pipeline(${JSON.stringify(cacheDir)});
      const error = await p.getResult('Sales').catch((e) => e);
      console.log(JSON.stringify({ code: error.code, message: error.message }));
      await p.close();`);
    const error = JSON.parse(out) as { code: string; message: string };
    assert.equal(error.code, 'ERR_PEER_PACKAGE', error.message);
    assert.match(error.message, /needs the package apache-arrow, which this project does not have installed\. Install it \(npm install apache-arrow\) and try again; the cached result is kept\./);
    // The entry is still there for a project that has the package.
    const back = await script(writer, `const p = pipeline(${JSON.stringify(cacheDir)}); const table = await p.getResult('Sales'); console.log(table.numRows, [...table.getChild('a')].join()); await p.close();`);
    assert.equal(back.trim(), '3 1,2,3');
  } finally {
    fs.rmSync(writer, { recursive: true, force: true });
    fs.rmSync(reader, { recursive: true, force: true });
  }
});
