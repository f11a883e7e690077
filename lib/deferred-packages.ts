import { createRequire } from 'node:module';

/**
 * The dependencies a run does not always need, loaded the first time they are used instead of
 * when littlepipes is imported: together they cost several hundred milliseconds of startup, which
 * every command, shell, notebook cell and spawned process would pay (see bench/startup.ts).
 *
 * CommonJS packages are `require()`d, synchronously, so that the synchronous functions using them
 * (renderTable, loadProjectConfig, expandInputs, a SQL task's statements) stay synchronous. ES
 * modules can only be imported asynchronously, so their users await them at an async point.
 */
const require = createRequire(import.meta.url);

function requiredOnFirstUse<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}

function importedOnFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => (loading ??= load());
}

/**
 * Node's own modules that only some features use: loading node:stream and node:readline (which
 * loads streams) was several milliseconds of every import (issue 15). child_process: command and
 * R tasks; readline: their output lines and the shell; stream: a polars DataFrame's bytes.
 */
export const childProcessModule = requiredOnFirstUse<typeof import('node:child_process')>('node:child_process');
export const readlineModule = requiredOnFirstUse<typeof import('node:readline')>('node:readline');
export const streamModule = requiredOnFirstUse<typeof import('node:stream')>('node:stream');
/** crypto: hashes, ids and random names, from the first plan or run on (about 6 ms of an import otherwise). */
export const cryptoModule = requiredOnFirstUse<typeof import('node:crypto')>('node:crypto');
/** v8: results' bytes, from the first store or load on (loading it loads all of node:stream). */
export const v8Module = requiredOnFirstUse<typeof import('node:v8')>('node:v8');

/** cli-table3: the report, plan, shell and result tables. */
export const tableModule = requiredOnFirstUse<typeof import('cli-table3')>('cli-table3');
/** yaml: only when a littlepipes.yaml exists. */
export const yamlModule = requiredOnFirstUse<typeof import('yaml')>('yaml');
/** dbgate-query-splitter: the statements of SQL tasks. */
export const sqlSplitterModule = requiredOnFirstUse<typeof import('dbgate-query-splitter')>('dbgate-query-splitter');
/** tinyglobby (its CommonJS build): tasks with file inputs (whether a pattern is a glob is its call; folders are listed with it). */
export const globModule = requiredOnFirstUse<typeof import('tinyglobby')>('tinyglobby');
/** pino: a task's logger, once a task logs (the runner's own lines are written without it). */
export const pinoModule = requiredOnFirstUse<typeof import('pino')>('pino');
/** ora (an ES module): the spinner, on a terminal only. */
export const oraModule = importedOnFirstUse<typeof import('ora')>(() => import('ora'));
/**
 * hash-wasm's XXH3-128 alone: result and file hashes, once a store opens or an input file is
 * hashed. The package's entry holds every algorithm it has (its import and first hasher took
 * 65 ms here, against 15 for this file).
 */
export const hashWasmModule = requiredOnFirstUse<Pick<typeof import('hash-wasm'), 'createXXHash128'>>('hash-wasm/dist/xxhash128.umd.min.js');
/** oxc-parser (an ES module): parsing task source for code fingerprints, once a plan, run or getResult starts. */
export const parserModule = importedOnFirstUse<typeof import('oxc-parser')>(() => import('oxc-parser'));
/** hyparquet-writer (an ES module): `export` to a .parquet file. */
export const parquetWriterModule = importedOnFirstUse<typeof import('hyparquet-writer')>(() => import('hyparquet-writer'));
/** csv-stringify's synchronous API: `export` to a .csv file. */
export const csvStringifyModule = requiredOnFirstUse<typeof import('csv-stringify/sync')>('csv-stringify/sync');
