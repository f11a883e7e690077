import fs from 'node:fs';
import path from 'node:path';
import { globModule, hashWasmModule } from '../deferred-packages.js';
import { InputFileError, InvalidOptionError, OutputFileError } from '../errors.js';
import { describeValue } from '../names.js';
import { hashBytes, joinParts } from './hash.js';
import { type StatKey, sameStat, statKey } from './stat.js';

/**
 * What is known of one file: enough to tell, without reading it, that it has not changed (its
 * stat, see StatKey), and its content's hash. A
 * table output (see TableOutput) is recorded the same way, with its row count as `size` and an
 * `mtimeMs` of 0: a table has no modification time, so it is hashed each time it is looked at.
 */
export interface FileRecord extends StatKey {
  /** XXH3-128 of its contents. */
  hash: string;
}

/** Files by their path relative to the working directory (with `/` separators). */
export type FileRecords = Record<string, FileRecord>;

/** One input or output file that differs from what a cached result was computed with. */
export interface FileChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
}

/**
 * The files a task's `inputs` name: files as they are, folders as every file inside them, glob
 * patterns as what they match; sorted and without repeats. A missing file or folder, or a glob
 * that matches nothing (unless `allowEmpty`), is an InputFileError before anything runs.
 */
export function expandInputs(task: string, patterns: readonly string[], allowEmpty: boolean): string[] {
  const files = new Set<string>();
  const { globSync, isDynamicPattern } = globModule();
  for (const pattern of patterns) {
    if (isDynamicPattern(pattern)) {
      const matches = globSync(pattern, { onlyFiles: true, dot: false });
      if (matches.length === 0 && !allowEmpty) {
        throw new InputFileError(task, pattern, 'matches no file; check the pattern, or set allowEmptyInputs: true if none is fine');
      }
      for (const match of matches) files.add(toKey(match));
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(pattern);
    } catch {
      throw new InputFileError(task, pattern, 'does not exist; create it, or fix the path in the task\'s inputs');
    }
    if (stat.isDirectory()) for (const file of filesIn(pattern)) files.add(file);
    else files.add(toKey(pattern));
  }
  return [...files].sort();
}

/** The files a task's `outputs` name now (a folder counts as the files in it), and the outputs that are missing. */
export function existingOutputs(outputs: readonly string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  for (const output of outputs) {
    if (isTableOutput(output)) continue;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(output);
    } catch {
      missing.push(output);
      continue;
    }
    if (stat.isDirectory()) files.push(...filesIn(output));
    else files.push(toKey(output));
  }
  return { files: files.sort(), missing };
}

/**
 * Checks, after a task ran, that every output it declares exists; returns their records. Its
 * tables are hashed on the connections `resources` give.
 */
export async function recordOutputs(task: string, outputs: readonly string[], previous: FileRecords | undefined, resources?: OutputResources): Promise<FileRecords> {
  const { files, missing } = existingOutputs(outputs);
  if (missing.length > 0) throw new OutputFileError(task, missing[0]!, 'was not written by the task; write it, or remove it from the task\'s outputs');
  const tables = await recordTables(task, outputs, previous, resources);
  if (tables.missing.length > 0) throw new OutputFileError(task, tables.missing[0]!, 'is not in the database after the task ran; create the table, or remove it from the task\'s outputs');
  return { ...(await recordFiles(files, previous)), ...tables.records };
}

/**
 * Records of files, reading only those whose stat (size, mtime, ctime and inode: see StatKey)
 * differs from `previous`: an unchanged input of a gigabyte costs a stat, not a read.
 */
export async function recordFiles(files: readonly string[], previous: FileRecords | undefined): Promise<FileRecords> {
  const records: FileRecords = {};
  for (const file of files) {
    const stat = fs.statSync(file);
    const known = previous?.[file];
    records[file] = known && sameStat(known, stat)
      ? known
      : { ...statKey(stat), hash: await hashFile(file) };
  }
  return records;
}

/** Files added, removed or modified between two sets of records (by content, not by time). */
export function fileChanges(before: FileRecords = {}, after: FileRecords = {}): FileChange[] {
  const changes: FileChange[] = [];
  for (const file of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const then = before[file];
    const now = after[file];
    if (!then) changes.push({ path: file, change: 'added' });
    else if (!now) changes.push({ path: file, change: 'removed' });
    else if (then.hash !== now.hash) changes.push({ path: file, change: 'modified' });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A file's contents hashed as they stream in, so a large file is never held in memory. */
async function hashFile(file: string): Promise<string> {
  const hasher = await hashWasmModule().createXXHash128();
  hasher.init();
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hasher.update(chunk as Buffer);
  return hasher.digest('hex');
}

function filesIn(folder: string): string[] {
  return globModule().globSync('**/*', { cwd: folder, onlyFiles: true, dot: true }).map((file) => toKey(path.join(folder, file)));
}

/** A path relative to the working directory, with `/` separators: the key files are recorded under. */
function toKey(file: string): string {
  return path.relative(process.cwd(), path.resolve(file)).split(path.sep).join('/');
}

/**
 * A database table a task writes, declared among its outputs beside files. It is checked as an
 * output file is: after the task runs it must exist, and when it has been dropped or its content
 * changed since, the task runs again. Its content is read on the DuckDB connection that the
 * resource `db` gives (see `pipeline.provide`), the one the task writes it with. The string
 * `'db:sales_clean'` says the same; `'db:warehouse/sales_clean'` names another resource.
 * @example new Task('Clean', { uses: ['db'], outputs: ['out/report.csv', { table: 'sales_clean' }] })
 */
export interface TableOutput {
  /** The table or view, with its schema (and catalog) when needed: `'sales_clean'`, `'staging.sales'`. */
  table: string;
  /**
   * The resource whose connection holds it.
   * @default 'db'
   */
  db?: string;
}

/**
 * How a table is named among a task's outputs (`task.outputs`, `t.outputs`, reasons such as
 * `output missing: db:sales_clean`): the outputs are a list of strings, and a path in a project
 * does not start with `db:` (write `./db:x` for a file that does).
 */
const TABLE_PREFIX = 'db:';
const DEFAULT_DB = 'db';

/** Whether an output is a table (see TableOutput) rather than a file. */
export function isTableOutput(output: string): boolean {
  return output.startsWith(TABLE_PREFIX);
}

/**
 * A table output as it is named among the outputs: `db:<table>` on the resource `db`,
 * `db:<resource>/<table>` on another. Its name is checked: one to three dot-separated parts
 * (catalog, schema, table), each quoted when queried.
 */
export function tableOutputKey(task: string, output: string | TableOutput): string {
  const { table, db = DEFAULT_DB } = typeof output === 'string' ? parseTableKey(output) : output;
  const where = `Task "${task}": the output ${typeof output === 'string' ? output : `{ table: ${JSON.stringify(table)} }`}`;
  if (typeof db !== 'string' || db.trim() === '' || db.includes('/')) {
    throw new InvalidOptionError('outputs', `${where} names its resource as ${describeValue(db)}; db must be the name of a resource the pipeline provides, without "/".`);
  }
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length === 0 || parts.length > 3 || parts.some((part) => part === '' || part.trim() !== part || /["/:]/.test(part))) {
    throw new InvalidOptionError('outputs', `${where}: the table must be a name such as 'sales_clean' or 'staging.sales' (no quotes, "/" or ":"), got ${describeValue(table)}.`);
  }
  return `${TABLE_PREFIX}${db === DEFAULT_DB ? '' : `${db}/`}${table}`;
}

/** The resource and table a table output's name holds (see tableOutputKey). */
function parseTableKey(key: string): { db: string; table: string } {
  const rest = key.slice(TABLE_PREFIX.length);
  const slash = rest.indexOf('/');
  return slash === -1 ? { db: DEFAULT_DB, table: rest } : { db: rest.slice(0, slash), table: rest.slice(slash + 1) };
}

/** What table checks need of a run's resources (run/resources.ts): to make one, then to get it. */
export interface OutputResources {
  prepare(task: string, names: readonly string[]): Promise<void> | undefined;
  get(name: string): unknown;
}

/** The part of a DuckDBConnection (@duckdb/node-api) a table check uses. */
interface QueryConnection {
  runAndReadAll(sql: string): Promise<{ getRows(): unknown[][] }>;
}

/**
 * The records of the tables among `outputs`, hashed now on the connections of `resources`, and
 * the tables that do not exist. Without `resources` (a plan, or getResult, which make no
 * resources), the tables are not looked at: their records are carried over from `previous`.
 */
export async function recordTables(
  task: string,
  outputs: readonly string[],
  previous: FileRecords | undefined,
  resources: OutputResources | undefined,
): Promise<{ records: FileRecords; missing: string[] }> {
  const records: FileRecords = {};
  const missing: string[] = [];
  for (const output of outputs) {
    if (!isTableOutput(output)) continue;
    if (!resources) {
      if (previous?.[output]) records[output] = previous[output];
      continue;
    }
    const { db, table } = parseTableKey(output);
    await resources.prepare(task, [db]);
    const connection = resources.get(db) as QueryConnection;
    if (typeof connection?.runAndReadAll !== 'function') {
      throw new OutputFileError(task, output, `cannot be checked: the resource "${db}" must be a DuckDB connection (a DuckDBConnection from @duckdb/node-api), got ${describeValue(connection)}`);
    }
    const record = await exclusively(connection, undefined, () => hashTable(connection, table));
    if (record) records[output] = record;
    else missing.push(output);
  }
  return { records, missing };
}

/**
 * A table's content as a record, or undefined when there is no such table. The hash covers its
 * columns' names and types, its row count, and the sum of DuckDB's 64-bit hash of every row: one
 * pass in the database, without sorting or holding the table, the same whatever order the rows
 * come in, and unlike a XOR, changed by a duplicated row. (A new DuckDB version may hash
 * differently, which re-runs the task once.)
 */
async function hashTable(connection: QueryConnection, table: string): Promise<FileRecord | undefined> {
  // Quoted, so a name is never read as SQL; DuckDB matches quoted names without regard to case, as unquoted ones.
  const name = table.split('.').map((part) => `"${part}"`).join('.');
  let columns: unknown[][];
  try {
    columns = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${name}`)).getRows();
  } catch (error) {
    if (/^Catalog Error/.test((error as Error)?.message ?? '')) return undefined;
    throw error;
  }
  const [[rows, sum] = []] = (await connection.runAndReadAll(`SELECT count(*)::VARCHAR, coalesce(sum(hash(*COLUMNS(*))), 0)::VARCHAR FROM ${name}`)).getRows();
  return {
    size: Number(rows),
    mtimeMs: 0,
    hash: hashBytes(joinParts([...columns.map(([column, type]) => `${String(column)} ${String(type)}`), String(rows), String(sum)])),
  };
}

const turns = new WeakMap<object, Promise<void>>();

/**
 * Runs `work` alone on a connection. DuckDB runs the queries of one connection one at a time
 * anyway; taking turns explicitly means that a SQL task's statements run together (a transaction
 * it opens is its own, and a table check never reads inside it), and that interrupting the
 * connection stops the statement of the task that holds the turn, not another task's. Waiting for
 * a turn ends when `signal` aborts.
 */
export async function exclusively<T>(connection: object, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  const before = turns.get(connection) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  turns.set(connection, before.then(() => mine));
  try {
    if (signal) {
      signal.throwIfAborted();
      let onAbort!: () => void;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        await Promise.race([before, aborted]);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    } else {
      await before;
    }
    return await work();
  } finally {
    release();
  }
}
