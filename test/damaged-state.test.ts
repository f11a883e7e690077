import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Keyv from 'keyv';
import { CacheStoreError, Pipeline, PipelineRunError, ResultTooLargeError, Task } from '../lib/index.js';
import { REPO } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

const quiet = { progress: false } as const;

function sales(cacheDir: string, options: Record<string, unknown> = {}) {
  return new Pipeline('Sales', { cacheDir, ...options }).add(
    new Task('Load').process('run', () => Array.from({ length: 200 }, (_, i) => ({ id: i, note: 'x'.repeat(50) }))),
    new Task('Count', { dependencies: ['Load'] }).process('run', (t) => t.result<unknown[]>('Load').length),
  );
}

/** Runs `body` while collecting the process warnings it causes. */
async function warningsDuring(body: () => Promise<void>): Promise<Error[]> {
  const warnings: Error[] = [];
  const listen = (warning: Error) => warnings.push(warning);
  process.on('warning', listen);
  try {
    await body();
    await new Promise((resolve) => setImmediate(resolve)); // Warnings are emitted on the next tick.
  } finally {
    process.off('warning', listen);
  }
  return warnings;
}

test('a cache file overwritten with garbage is moved aside with a warning, and a new cache starts', async () => {
  const cacheDir = temporaryFolder();
  fs.writeFileSync(path.join(cacheDir, 'cache.sqlite'), 'this is not a database, it is a shopping list\n'.repeat(100));
  let pipeline!: ReturnType<typeof sales>;
  const warnings = await warningsDuring(async () => {
    pipeline = sales(cacheDir);
    await pipeline.execute(quiet);
  });
  const warning = warnings.find((candidate) => /cache file/.test(candidate.message));
  assert.ok(warning, `a warning about the cache file, got ${warnings.map((candidate) => candidate.message).join('; ')}`);
  assert.match(warning.message, /cache\.sqlite is not an SQLite database \(overwritten or damaged\)\. It was moved to .*cache\.sqlite\.damaged-/);
  const aside = fs.readdirSync(cacheDir).filter((name) => name.startsWith('cache.sqlite.damaged-') && !name.endsWith('-wal') && !name.endsWith('-shm'));
  assert.equal(aside.length, 1, 'the damaged file is kept, for whoever wants to look at it');
  assert.equal(await pipeline.getResult('Count'), 200);
  await pipeline.close();
});

test('a truncated cache file is moved aside with a warning; the results are computed again and served', async () => {
  const cacheDir = temporaryFolder();
  const first = sales(cacheDir);
  for (let i = 0; i < 30; i++) first.add(new Task(`Filler${i}`).process('run', () => 'y'.repeat(3000)));
  await first.execute(quiet);
  await first.close();
  const file = path.join(cacheDir, 'cache.sqlite');
  // Fold the write-ahead log into the file, so the file holds every page, then cut it in half.
  spawnSync(process.execPath, ['-e', `const s=require('sqlite3');const d=new s.Database(${JSON.stringify(file)});d.exec('PRAGMA wal_checkpoint(TRUNCATE)',()=>d.close())`], { cwd: REPO });
  for (const suffix of ['-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
  let second!: ReturnType<typeof sales>;
  const warnings = await warningsDuring(async () => {
    second = sales(cacheDir);
    const report = await second.execute(quiet);
    assert.equal(report.task('Load')?.status, 'ran');
  });
  assert.ok(warnings.some((warning) => /cache\.sqlite is truncated \(\d+ bytes of \d+\)/.test(warning.message)), warnings.map((warning) => warning.message).join('; '));
  assert.equal(await second.getResult('Count'), 200);
  await second.close();
});

test('a cache written by a newer littlepipes is refused with a clear error, and left as it is', async () => {
  const cacheDir = temporaryFolder();
  const pipeline = sales(cacheDir);
  await pipeline.execute(quiet);
  await pipeline.close();
  const KeyvSqlite = (await import('@keyv/sqlite')).default;
  const keyv = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${path.join(cacheDir, 'cache.sqlite')}` }), namespace: 'Sales' });
  await keyv.set('littlepipes:format', { format: 99, version: '9.0.0' });
  await keyv.disconnect();

  const later = sales(cacheDir);
  await assert.rejects(later.execute(quiet), (error: unknown) => {
    assert.ok(error instanceof CacheStoreError);
    assert.match(error.message, /cache\.sqlite was written by a newer littlepipes \(9\.0\.0, cache format 99\); this one \([\d.]+\) reads format 1\. Upgrade littlepipes, or give this project another cache folder/);
    return true;
  });
  await later.close().catch(() => {});
  const check = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${path.join(cacheDir, 'cache.sqlite')}` }), namespace: 'Sales' });
  assert.deepEqual(await check.get('littlepipes:format'), { format: 99, version: '9.0.0' }, 'the newer cache keeps its mark');
  assert.ok(await check.get('task:Count'), 'and its entries');
  await check.disconnect();
});

test('a log folder that cannot be written warns once; the run and its cache work', async () => {
  const cacheDir = temporaryFolder();
  fs.writeFileSync(path.join(cacheDir, 'logs'), 'a file where the log folder should be');
  let pipeline!: ReturnType<typeof sales>;
  const warnings = await warningsDuring(async () => {
    pipeline = sales(cacheDir);
    await pipeline.execute(quiet);
    await pipeline.close();
  });
  assert.equal(warnings.filter((warning) => /cannot write task logs/.test(warning.message)).length, 1);
  const again = sales(cacheDir);
  assert.equal(await again.getResult('Count'), 200);
  await again.close();
});

test('a cache folder that cannot be made is a CacheStoreError naming it', async () => {
  const parent = temporaryFolder();
  fs.writeFileSync(path.join(parent, 'file'), '');
  const pipeline = sales(path.join(parent, 'file', 'cache'));
  await assert.rejects(pipeline.execute(quiet), (error: unknown) => error instanceof CacheStoreError && /Cannot create the cache folder .*file\/cache: ENOTDIR.*Choose another folder with the cacheDir option or LITTLEPIPES_DIR/.test(error.message));
});

test('a full disk fails the task that wrote with a clear error, without a stack, and keeps what was cached', () => {
  const cacheDir = temporaryFolder();
  const script = path.join(cacheDir, 'full.mjs');
  fs.writeFileSync(script, `
import { Pipeline, Task } from ${JSON.stringify(path.join(REPO, 'dist', 'index.js'))};
const big = process.argv[2] === 'big';
const pipeline = new Pipeline('Disk', { cacheDir: ${JSON.stringify(cacheDir)} }).add(
  new Task('Small').process('run', () => 'kept'),
  new Task('Big').process('run', () => new Float64Array(big ? 2_000_000 : 10).fill(1)),
);
try {
  await pipeline.execute({ progress: false, force: ['Big'] });
  console.log('ran');
} catch (error) {
  console.log(error.constructor.name + ': ' + error.message);
}
console.log('Small: ' + await pipeline.getResult('Small'));
await pipeline.close();
`);
  const first = spawnSync(process.execPath, [script, 'small'], { encoding: 'utf8' });
  assert.match(first.stdout, /ran\nSmall: kept/, first.stderr);
  // A file size limit stands in for a full disk: writes past it fail with EFBIG, as with ENOSPC.
  const full = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 4000; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} big`], { encoding: 'utf8' });
  assert.match(full.stdout, /^PipelineRunError: 1 task failed: Big\. Big: Cannot write a large result to the cache at .*: EFBIG: file too large, write\. The disk is full: free some space, or move the cache to another disk/m, full.stdout + full.stderr);
  assert.match(full.stdout, /Small: kept/);
  assert.doesNotMatch(full.stdout + full.stderr, /^\s+at .+:\d+:\d+/m);
});

test('a cache file that cannot grow (a full disk or a quota, as SQLite sees it) is a clear error saying what to do, and keeps what was cached', () => {
  const cacheDir = temporaryFolder();
  const script = path.join(cacheDir, 'grow.mjs');
  fs.writeFileSync(script, `
import { Pipeline, Task } from ${JSON.stringify(path.join(REPO, 'dist', 'index.js'))};
const many = process.argv[2] === 'many';
const pipeline = new Pipeline('Disk', { cacheDir: ${JSON.stringify(cacheDir)}, logLevel: 'silent' }).add(new Task('Small').process('run', () => 'kept'));
// Results under 64 KiB go into the SQLite file itself, not into files beside it.
for (let i = 0; i < (many ? 40 : 0); i++) pipeline.add(new Task('Row' + i).process('run', () => 'x'.repeat(50_000) + i));
try {
  await pipeline.execute({ progress: false });
  console.log('ran');
} catch (error) {
  console.log(error.constructor.name + ': ' + error.message);
}
console.log('Small: ' + await pipeline.getResult('Small'));
await pipeline.close().catch(() => {});
`);
  const first = spawnSync(process.execPath, [script, 'few'], { encoding: 'utf8' });
  assert.match(first.stdout, /ran\nSmall: kept/, first.stderr);
  // Past a file size limit, SQLite's writes fail with EFBIG, which it reports as SQLITE_IOERR (a
  // quota, EDQUOT, does the same; only ENOSPC becomes SQLITE_FULL, whose advice is tested above).
  const full = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 600; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} many`], { encoding: 'utf8' });
  assert.match(full.stdout, /^CacheStoreError: Cannot write the cache at .*cache\.sqlite: SQLITE_IOERR: disk I\/O error\. The disk may be full or over a quota, or failing: free some space, or move the cache to another disk/m, full.stdout + full.stderr);
  assert.doesNotMatch(full.stdout + full.stderr, /^\s+at .+:\d+:\d+/m);
  const after = spawnSync(process.execPath, [script, 'few'], { encoding: 'utf8' });
  assert.match(after.stdout, /Small: kept/, after.stderr);
});

test('the cache folder, the cache file, large results and logs are readable by their owner only', async () => {
  const cacheDir = path.join(temporaryFolder(), 'private');
  const pipeline = new Pipeline('Private', { cacheDir }).add(
    new Task('Big').process('run', (t) => {
      t.log.info('computing');
      return new Float64Array(100_000);
    }),
  );
  await pipeline.execute(quiet);
  await pipeline.close();
  const mode = (file: string) => fs.statSync(file).mode & 0o777;
  assert.equal(mode(cacheDir), 0o700);
  assert.equal(mode(path.join(cacheDir, 'cache.sqlite')), 0o600);
  const blobs = path.join(cacheDir, 'blobs', 'Private');
  assert.equal(mode(blobs), 0o700);
  for (const blob of fs.readdirSync(blobs)) assert.equal(mode(path.join(blobs, blob)), 0o600);
  assert.equal(mode(path.join(cacheDir, 'logs', 'Private')), 0o700);
  assert.equal(mode(path.join(cacheDir, 'logs', 'Private', 'Big.log')), 0o600);
});

test('redacted fields are written as [redacted] in task logs', async () => {
  const cacheDir = temporaryFolder();
  const pipeline = new Pipeline('Redact', { cacheDir, redact: ['password', 'request.headers.authorization'] }).add(
    new Task('Login').process('run', (t) => {
      t.log.info({ user: 'ann', password: 'hunter2', request: { headers: { authorization: 'Bearer abc' } } }, 'logged in');
      return 1;
    }),
  );
  await pipeline.execute(quiet);
  await pipeline.close();
  const log = fs.readFileSync(path.join(cacheDir, 'logs', 'Redact', 'Login.log'), 'utf8');
  assert.match(log, /"user":"ann"/);
  assert.doesNotMatch(log, /hunter2|Bearer abc/);
  assert.match(log, /"password":"\[redacted\]"/);
});

test('in a shared store, two projects with a pipeline of the same name never see each other\'s results', async () => {
  const shared = new Map();
  const build = (project: string, value: string) => new Pipeline('Report', { store: shared, project }).add(new Task('Total').process('run', () => value));
  const north = build('north-team', 'north');
  await north.execute(quiet);
  const south = build('south-team', 'south');
  await assert.rejects(south.getResult('Total'), /never run/);
  await south.execute(quiet);
  assert.equal(await north.getResult('Total'), 'north');
  assert.equal(await south.getResult('Total'), 'south');
  assert.ok([...shared.keys()].every((key) => /^(north|south)-team\/Report:/.test(String(key))), [...shared.keys()].join(', '));
});

test('a result too large for a store other than the local one is refused, saying its size and the limit', async () => {
  const pipeline = new Pipeline('Huge', { store: new Map(), project: 'test' }).add(
    new Task('Matrix', { retries: 2 }).process('run', () => new Float64Array(40_000_000)),
  );
  await assert.rejects(pipeline.execute(quiet), (error: unknown) => {
    assert.ok(error instanceof PipelineRunError);
    const failure = error.report.task('Matrix')!;
    assert.ok(failure.error instanceof ResultTooLargeError);
    assert.equal(failure.attempts, undefined, 'not retried: another attempt makes the same result');
    assert.match(failure.error.message, /^Matrix's result is 305\.2 MB serialized; the configured store takes results up to 256\.0 MB\. Return something smaller/);
    return true;
  });
});

test('a tampered cache entry cannot pollute prototypes or revive code', async () => {
  const cacheDir = temporaryFolder();
  const pipeline = new Pipeline('Tamper', { cacheDir }).add(new Task('Data').process('run', () => ({ safe: true })));
  await pipeline.execute(quiet);
  await pipeline.close();
  const KeyvSqlite = (await import('@keyv/sqlite')).default;
  const keyv = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${path.join(cacheDir, 'cache.sqlite')}` }), namespace: 'Tamper' });
  const entry = await keyv.get('task:Data');
  // A value whose bytes are JSON text with a __proto__ key and a function's source, where v8 bytes belong.
  entry.value = { inline: Buffer.from('{"__proto__":{"polluted":true},"run":"function(){process.exit(9)}"}').toString('base64') };
  entry['__proto__'] = { polluted: true };
  await keyv.set('task:Data', JSON.parse(JSON.stringify(entry).replace('"value"', '"__proto__":{"polluted":true},"value"')));
  await keyv.disconnect();
  const again = new Pipeline('Tamper', { cacheDir }).add(new Task('Data').process('run', () => ({ safe: true })));
  await again.getResult('Data').catch(() => undefined);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
  await again.close();
});
