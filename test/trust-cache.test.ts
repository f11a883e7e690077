// A cache never serves a wrong value, and a damaged one heals: each test damages a real SQLite
// cache or a real result file the way a disk, a hand edit or a copy can, then reads through it.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sqlite3 from 'sqlite3';
import { DamagedResultError, Pipeline, Task } from '../lib/index.js';
import { statuses, temporaryFolder } from './helpers.js';

const quiet = { progress: false } as const;
/** Large enough to be kept in a file of its own beside the cache (over 64 KiB). */
const big = (letter: string) => Array.from({ length: 400 }, (_, i) => `${letter}${i}`.padEnd(300, letter));

function shop(cacheDir: string) {
  return new Pipeline('Shop', { cacheDir }).add(
    new Task('Orders').process('run', () => big('o')),
    new Task('Stock').process('run', () => big('s')),
    new Task('Small').process('run', () => ({ total: 41, names: ['a', 'b'] })),
    new Task('Count', { dependencies: ['Orders'] }).process('run', (t) => t.result<string[]>('Orders').length),
  );
}

/** Runs `body` while collecting the process warnings it causes. */
async function warningsDuring<T>(body: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const listen = (warning: Error) => warnings.push(warning.message);
  process.on('warning', listen);
  try {
    const result = await body();
    await new Promise((resolve) => setImmediate(resolve));
    return { result, warnings };
  } finally {
    process.off('warning', listen);
  }
}

function blobOf(cacheDir: string, task: string): string {
  const folder = path.join(cacheDir, 'blobs', 'Shop');
  const name = fs.readdirSync(folder).find((file) => file.startsWith(`${task}.`) && file.endsWith('.bin'));
  assert.ok(name, `${task} has a result file`);
  return path.join(folder, name);
}

/** Runs SQL on a cache file, as a hand edit or a broken write would change it. */
async function sql(file: string, statement: string, ...values: unknown[]): Promise<unknown[]> {
  const db = new sqlite3.Database(file);
  try {
    return await new Promise((resolve, reject) => db.all(statement, values, (error, rows) => (error ? reject(error) : resolve(rows))));
  } finally {
    await new Promise((resolve) => db.close(resolve));
  }
}

const cacheFile = (cacheDir: string) => path.join(cacheDir, 'cache.sqlite');

/** Puts `bytes` in place of a task's inline result in its entry row, as a hand edit would. */
async function replaceInline(cacheDir: string, task: string, bytes: Buffer): Promise<void> {
  const key = `Shop:task:${task}`;
  const [row] = (await sql(cacheFile(cacheDir), 'SELECT value FROM keyv WHERE key = ?', key)) as { value: string }[];
  const envelope = JSON.parse(row!.value);
  envelope.value.value.inline = bytes.toString('base64');
  await sql(cacheFile(cacheDir), 'UPDATE keyv SET value = ? WHERE key = ?', JSON.stringify(envelope), key);
}

async function cached(cacheDir: string): Promise<void> {
  const pipeline = shop(cacheDir);
  await pipeline.execute(quiet);
  await pipeline.close();
}

test('a result file with flipped bytes is never served: a warning names the task and the file, and the task runs again', async () => {
  const cacheDir = temporaryFolder();
  await cached(cacheDir);
  const file = blobOf(cacheDir, 'Orders');
  const bytes = fs.readFileSync(file);
  // Inside a string, so V8 still reads the bytes as a value: only the hash can tell.
  bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0x01;
  fs.writeFileSync(file, bytes);

  const pipeline = shop(cacheDir);
  const { result: error, warnings } = await warningsDuring(() => pipeline.getResult('Orders').then(() => undefined, (thrown: unknown) => thrown));
  assert.ok(error instanceof DamagedResultError, `a DamagedResultError, got ${String(error)}`);
  assert.match(error.message, /Orders/);
  assert.ok(warnings.some((warning) => warning.includes('Orders') && warning.includes(path.basename(file))), `a warning names Orders and ${path.basename(file)}: ${warnings.join(' | ')}`);
  const report = await pipeline.execute(quiet);
  assert.equal(statuses(report).Orders, 'ran', 'the damaged entry was set aside, so Orders ran again');
  assert.deepEqual(await pipeline.getResult('Orders'), big('o'));
  await pipeline.close();
});

test("another task's result file under a task's file name is not served as its value", async () => {
  const cacheDir = temporaryFolder();
  await cached(cacheDir);
  fs.copyFileSync(blobOf(cacheDir, 'Stock'), blobOf(cacheDir, 'Orders'));
  const pipeline = shop(cacheDir);
  await assert.rejects(pipeline.getResult('Orders'), DamagedResultError);
  assert.deepEqual(await pipeline.getResult('Stock'), big('s'), 'the intact result is still served');
  await pipeline.close();
});

test('a damaged upstream file read by a dependent mid-run is set aside; the next run computes it again', async () => {
  const cacheDir = temporaryFolder();
  await cached(cacheDir);
  fs.copyFileSync(blobOf(cacheDir, 'Stock'), blobOf(cacheDir, 'Orders'));
  const pipeline = shop(cacheDir);
  // Count reads Orders' cached value: the wrong bytes must not reach it.
  const first = await pipeline.execute({ ...quiet, force: ['Count'] }).catch((thrown: unknown) => thrown);
  assert.ok(first instanceof Error && /Orders/.test(first.message), `the run names Orders: ${String(first)}`);
  const second = await pipeline.execute(quiet);
  assert.equal(statuses(second).Orders, 'ran');
  assert.equal(await pipeline.getResult('Count'), 400);
  await pipeline.close();
});

test('an inline result whose bytes were replaced is set aside when the cache is read, and the task runs again', async () => {
  const cacheDir = temporaryFolder();
  await cached(cacheDir);
  // Valid V8 bytes of another value: it would decode without complaint.
  const { serialize } = await import('node:v8');
  await replaceInline(cacheDir, 'Small', serialize({ total: 42, names: ['a', 'b'] }));

  const pipeline = shop(cacheDir);
  const { result: report, warnings } = await warningsDuring(() => pipeline.execute(quiet));
  assert.ok(warnings.some((warning) => /Small/.test(warning) && /damaged/.test(warning)), `a warning names Small: ${warnings.join(' | ')}`);
  assert.equal(statuses(report).Small, 'ran', 'not reported as cached');
  assert.deepEqual(await pipeline.getResult('Small'), { total: 41, names: ['a', 'b'] });
  await pipeline.close();
});

test('an inline result whose bytes do not decode gives a clear error from getResult, not a raw one', async () => {
  const cacheDir = temporaryFolder();
  await cached(cacheDir);
  await replaceInline(cacheDir, 'Small', Buffer.from('not V8 bytes at all'));
  const pipeline = shop(cacheDir);
  const { result: error } = await warningsDuring(() => pipeline.getResult('Small').then(() => undefined, (thrown: unknown) => thrown));
  assert.ok(error instanceof Error);
  assert.doesNotMatch(error.message, /deserialize|cloned data/);
  assert.match(error.message, /Small/);
  assert.match(error.message, /execute\(\)|run/);
  await pipeline.close();
});

test('an entry row with fields missing, and a row that is not JSON, are set aside with a warning; the run goes on', async () => {
  const cacheDir = temporaryFolder();
  await cached(cacheDir);
  await sql(cacheFile(cacheDir), 'UPDATE keyv SET value = ? WHERE key = ?', '{"value":{"format":2,"state":"ok"}}', 'Shop:task:Orders');
  await sql(cacheFile(cacheDir), 'UPDATE keyv SET value = ? WHERE key = ?', '{"value":{"format":2,"sta', 'Shop:task:Stock');
  const pipeline = shop(cacheDir);
  const { result: report, warnings } = await warningsDuring(() => pipeline.execute(quiet));
  for (const task of ['Orders', 'Stock']) {
    assert.ok(warnings.some((warning) => warning.includes(`entry of ${task}`)), `a warning names ${task}: ${warnings.join(' | ')}`);
  }
  assert.deepEqual(statuses(report), { Orders: 'ran', Stock: 'ran', Small: 'cached', Count: 'cached' });
  assert.deepEqual(await pipeline.getResult('Stock'), big('s'));
  await pipeline.close();
});

test('a cache from a newer littlepipes is refused without changing one byte of it', async () => {
  const cacheDir = temporaryFolder();
  await cached(cacheDir);
  await sql(cacheFile(cacheDir), 'UPDATE keyv SET value = ? WHERE key = ?', JSON.stringify({ value: { format: 99, version: '9.0.0' } }), 'Shop:littlepipes:format');
  await sql(cacheFile(cacheDir), 'PRAGMA wal_checkpoint(TRUNCATE)');
  const digest = () => {
    const hash = crypto.createHash('sha256');
    for (const name of fs.readdirSync(cacheDir).sort()) {
      const full = path.join(cacheDir, name);
      if (fs.statSync(full).isFile()) hash.update(name).update(fs.readFileSync(full));
    }
    return hash.digest('hex');
  };
  const before = digest();
  const pipeline = shop(cacheDir);
  await assert.rejects(pipeline.execute(quiet), /newer littlepipes \(9\.0\.0/);
  await pipeline.close().catch(() => {});
  assert.equal(digest(), before, 'the cache folder holds the same bytes');
});

test('the cache, its -wal and -shm files are owner-only from the start, and an open cache folder is tightened', async () => {
  const cacheDir = temporaryFolder();
  fs.chmodSync(cacheDir, 0o755);
  const umask = process.umask(0o022);
  try {
    const modes: Record<string, number> = {};
    const pipeline = new Pipeline('Shop', { cacheDir }).add(
      new Task('Look').process('run', () => {
        // While the run is under way: the write-ahead log holds results before they are checkpointed.
        for (const name of fs.readdirSync(cacheDir)) modes[name] = fs.statSync(path.join(cacheDir, name)).mode & 0o777;
        return 1;
      }),
    );
    await pipeline.execute(quiet);
    await pipeline.close();
    for (const name of ['cache.sqlite', 'cache.sqlite-wal', 'cache.sqlite-shm']) {
      assert.equal(modes[name]?.toString(8), '600', `${name} is owner-only during the run (modes: ${JSON.stringify(modes)})`);
    }
    assert.equal((fs.statSync(cacheDir).mode & 0o777).toString(8), '700', 'the cache folder is tightened');
  } finally {
    process.umask(umask);
  }
});

test('a damaged run history or entry row does not stop runs, the history or the cache listing', async () => {
  const cacheDir = temporaryFolder();
  await cached(cacheDir);
  await sql(cacheFile(cacheDir), 'UPDATE keyv SET value = ? WHERE key = ?', '{"value":["20', 'Shop:runs');
  await sql(cacheFile(cacheDir), 'UPDATE keyv SET value = ? WHERE key = ?', 'garbage', 'Shop:task:Small');
  const pipeline = shop(cacheDir);
  const { result: listing, warnings } = await warningsDuring(() => pipeline.listCache());
  assert.deepEqual(listing.map((line) => line.task).sort(), ['Count', 'Orders', 'Stock'], 'the readable entries are listed');
  assert.ok(warnings.some((warning) => warning.includes('entry of Small')), warnings.join(' | '));
  const report = await pipeline.execute(quiet);
  assert.equal(statuses(report).Small, 'ran');
  const history = await pipeline.history();
  assert.equal(history.length, 1, 'the history starts again from this run');
  assert.equal(history[0]!.tasks.find((task) => task.name === 'Small')?.status, 'ran');
  await pipeline.close();
});

test('a result file edited with its size and mtime put back is still not served (its ctime tells)', async () => {
  const cacheDir = temporaryFolder();
  await cached(cacheDir);
  const file = blobOf(cacheDir, 'Orders');
  const before = fs.statSync(file);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 50] = bytes[bytes.length - 50]! ^ 0x02;
  fs.writeFileSync(file, bytes);
  fs.utimesSync(file, before.atime, before.mtime);
  const pipeline = shop(cacheDir);
  const { result: error } = await warningsDuring(() => pipeline.getResult('Orders').then(() => undefined, (thrown: unknown) => thrown));
  assert.ok(error instanceof DamagedResultError, `a DamagedResultError, got ${String(error)}`);
  await pipeline.close();
});
