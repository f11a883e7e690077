// A store that is wrong: a URL of an unknown scheme (in the option, LITTLEPIPES_STORE or
// littlepipes.yaml), a server that does not answer, an adapter package not installed. Each is
// an error naming the store (never its password) and what to do, and loses nothing cached.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { CacheStoreError, InvalidOptionError, Pipeline, Task } from '../../lib/index.js';
import { REPO } from '../cli/project.js';
import { temporaryFolder } from '../helpers.js';
import { type TestServer, freePort, startRedis } from '../servers.js';
import { rejectsWith, throwsError } from './helpers.js';

const quiet = { progress: false } as const;
let redis: TestServer;
before(async () => {
  redis = await startRedis();
});
after(() => redis.stop());

const pipelineOn = (store: string) => new Pipeline('Sales', { store, project: 'bad-inputs', cacheDir: temporaryFolder() }).add(new Task('Load').process('run', () => [1, 2, 3]));

test('a store URL never shows its password in an error', () => {
  const error = throwsError(() => pipelineOn('mysql://analyst:s3cret@db.internal/cache'), InvalidOptionError, 'ERR_INVALID_OPTION', 'store URL "mysql://analyst:***@db.internal/cache" has the scheme "mysql:"');
  assert.doesNotMatch(error.message, /s3cret/);
  assert.equal(error.option, 'store');
});

test('LITTLEPIPES_STORE of an unknown scheme is an InvalidOptionError that names the variable', () => {
  process.env.LITTLEPIPES_STORE = 'memcached://localhost:11211';
  try {
    throwsError(() => new Pipeline('Sales'), InvalidOptionError, 'ERR_INVALID_OPTION', 'Pipeline "Sales": LITTLEPIPES_STORE: store URL "memcached://localhost:11211" has the scheme "memcached:"');
  } finally {
    delete process.env.LITTLEPIPES_STORE;
  }
});

test('a store option given in code wins over LITTLEPIPES_STORE, which is then not even read', async () => {
  process.env.LITTLEPIPES_STORE = 'memcached://localhost:11211';
  try {
    const pipeline = pipelineOn(redis.url);
    assert.equal((await pipeline.execute(quiet)).task('Load')?.status, 'ran');
    await pipeline.close();
  } finally {
    delete process.env.LITTLEPIPES_STORE;
  }
});

test('a store server that does not answer is a CacheStoreError naming the URL (without its password) and what to check; the cache on the right one is kept', { timeout: 60_000 }, async () => {
  const good = pipelineOn(redis.url);
  await good.execute(quiet);
  await good.close();
  const port = await freePort();
  for (const url of [`redis://:s3cret@127.0.0.1:${port}`, `postgresql://analyst:s3cret@127.0.0.1:${port}/cache`]) {
    const down = pipelineOn(url);
    const error = await rejectsWith(down.execute(quiet), CacheStoreError, 'ERR_CACHE_STORE', `Cannot open the cache at ${url.replace('s3cret', '***')}`, 'Check that the server is running and reachable at that address');
    assert.doesNotMatch(error.message, /s3cret/);
    await down.close();
  }
  const again = pipelineOn(redis.url);
  assert.equal((await again.execute(quiet)).task('Load')?.status, 'cached');
  await again.close();
});

test('a store URL whose adapter package is not installed is a CacheStoreError that says what to install', { timeout: 60_000 }, async () => {
  // A project whose node_modules has everything littlepipes needs but @keyv/redis and @keyv/postgres.
  const project = temporaryFolder();
  const modules = path.join(project, 'node_modules');
  fs.mkdirSync(path.join(modules, '@keyv'), { recursive: true });
  for (const name of fs.readdirSync(path.join(REPO, 'node_modules'))) {
    if (name === '@keyv' || name === '.bin' || name === 'littlepipes') continue;
    fs.symlinkSync(path.join(REPO, 'node_modules', name), path.join(modules, name));
  }
  for (const name of ['sqlite', 'serialize']) fs.symlinkSync(path.join(REPO, 'node_modules', '@keyv', name), path.join(modules, '@keyv', name));
  const littlepipes = path.join(modules, 'littlepipes');
  fs.mkdirSync(littlepipes);
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(littlepipes, 'package.json'));
  fs.cpSync(path.join(REPO, 'dist'), path.join(littlepipes, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'lean', type: 'module' }));
  fs.writeFileSync(path.join(project, 'run.mjs'), `
import { Pipeline, Task } from 'littlepipes';
for (const store of ['redis://127.0.0.1:6379', 'postgresql://127.0.0.1/cache']) {
  const pipeline = new Pipeline('Lean', { store }).add(new Task('Load').process('run', () => 1));
  await pipeline.execute({ progress: false }).catch((error) => console.log(error.code + ' ' + error.message));
  await pipeline.close();
}
`);
  const { stdout } = await promisify(execFile)(process.execPath, ['run.mjs'], { cwd: project, env: { ...process.env, CI: '1' } });
  assert.match(stdout, /^ERR_CACHE_STORE The store redis:\/\/127\.0\.0\.1:6379 needs the package @keyv\/redis, which is not installed\. Install it in your project: npm install @keyv\/redis/m);
  assert.match(stdout, /^ERR_CACHE_STORE The store postgresql:\/\/127\.0\.0\.1\/cache needs the package @keyv\/postgres, which is not installed\. Install it in your project: npm install @keyv\/postgres/m);
});
