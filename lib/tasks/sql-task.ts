import fs from 'node:fs/promises';
import { sqlSplitterModule } from '../deferred-packages.js';
import type { DuckDBResultReader, DuckDBValueConverter } from '@duckdb/node-api';
import { InvalidOptionError, ResourceError, SqlStatementError } from '../errors.js';
import { type TableOutput, exclusively, isTableOutput } from '../fingerprint/files.js';
import { describeValue, rejectUnknownOptions } from '../names.js';
import { type AnyTask, Task, type TaskContextBase, type TaskOptions } from '../task.js';

export { SqlStatementError } from '../errors.js';
export type { TableOutput } from '../fingerprint/files.js';

/** What a SQL task returns: the rows of the file's last statement, or nothing. */
export type SqlResult = 'rows' | 'none';

/** A value in a row a SQL task returns (see `sqlTask` for how DuckDB's types arrive). */
export type SqlValue = null | boolean | number | bigint | string | Date | Uint8Array | SqlValue[] | { [key: string]: SqlValue };

/** A row a SQL task returns: its columns by name. */
export type SqlRow = Record<string, SqlValue>;

/** The result type of a SQL task whose `result` option is `R` and whose rows are `Row`s. */
export type SqlTaskResult<R extends SqlResult, Row = SqlRow> = R extends 'none' ? undefined : Row[];

/**
 * `sqlTask` for rows of a type the compiler is told, as `sqlTask<Row>()` returns it: the task's
 * result is `Row[]`, and so is `t.result(task)` in the tasks that depend on it. The SQL file
 * decides what the rows really hold; the type is your word for it, checked nowhere else.
 */
export type SqlTaskOfRows<Row> = <Name extends string, R extends SqlResult = 'rows'>(
  name: Name,
  file: string,
  options?: SqlTaskOptions & { result?: R },
) => Task<Name, {}, SqlTaskResult<R, Row>>;

/** Options of `sqlTask`: every Task option but `map`, and where and how the file runs. */
export interface SqlTaskOptions extends Omit<TaskOptions, 'map'> {
  /**
   * The resource (see `pipeline.provide`) whose DuckDB connection runs the file: a
   * `DuckDBConnection` from @duckdb/node-api. Part of the task's fingerprint. Table outputs
   * without a `db` of their own are on it too.
   * @default 'db'
   * @example sqlTask('Load', 'sql/load.sql', { db: 'warehouse' })
   */
  db?: string;
  /**
   * What the task returns: `'rows'`, the rows of the file's last statement as plain objects;
   * `'none'`, undefined, for a file whose product is its tables (a result that never changes lets
   * the tasks after it stay cached, and @duckdb/node-api is then not loaded by littlepipes at all).
   * Part of the task's fingerprint.
   * @default 'rows'
   */
  result?: SqlResult;
}

const SQL_OPTIONS = ['db', 'result'] as const;
/** Every Task option but map: a Record, so that an option Task gains and this lacks fails to type-check. */
const TASK_OPTIONS: Record<keyof SqlTaskOptions & keyof TaskOptions, true> = {
  dependencies: true, requires: true, stage: true, optional: true, expire: true, inputs: true, allowEmptyInputs: true,
  outputs: true, params: true, retries: true, sources: true, uses: true, timeout: true, description: true, local: true,
};
/** Every option sqlTask takes, for its did-you-mean suggestions. */
const KNOWN_SQL_TASK_OPTIONS: readonly string[] = [...Object.keys(TASK_OPTIONS), ...SQL_OPTIONS];

/**
 * Params keys that carry `db` and `result` into the task's fingerprint, as commandTask does with
 * its command: the process is the same code for every SQL task, so change detection would not see
 * another resource or result kind, while a change of params is seen and named in the plan. They
 * are not bound in the SQL (a statement's `$db` is the param `db`).
 */
const DB_KEY = '$db';
const RESULT_KEY = '$result';
const RESERVED_PARAMS: readonly string[] = [DB_KEY, RESULT_KEY];

/** How much of a statement the log line of a statement shows. */
const LOG_STATEMENT_CHARS = 80;

/** What the process needs, fixed when the task is made. */
interface SqlSpec {
  file: string;
  db: string;
  rows: boolean;
}

/**
 * A task that runs a SQL file on a DuckDB connection the pipeline provides, statement by
 * statement, in order. It is an ordinary Task, so it takes the same options (`dependencies`,
 * `inputs`, `outputs`, `params`, `retries`, `timeout`, `expire`...) and works wherever tasks do.
 *
 * - The file's content is the task's code: any edit to it, a comment included, re-runs the task,
 *   and the reason names the file (`code changed: file sql/ingest.sql`).
 * - The file is split into statements by a SQL-aware splitter: a `;` inside a string, a quoted
 *   name, a comment or a `$$`/`$tag$` body does not end a statement.
 * - A statement that uses named parameters (`WHERE year = $year`) gets them from the task's
 *   params: numbers, strings, booleans and null as they are, arrays and objects as JSON text
 *   (`$regions::JSON::VARCHAR[]`).
 * - A failing statement fails the task with a SqlStatementError naming the statement's number,
 *   its line and DuckDB's message; the statements before it have run, nothing is cached.
 * - The result is the rows of the last statement as plain objects. Integers come back as numbers
 *   when a number holds them exactly, else as bigints; decimals as numbers when a double holds
 *   them to their scale, else as exact text; DATE and TIMESTAMP as `Date` (to the millisecond;
 *   infinite ones as text); TIME and UUID as text; BLOB as Buffer; LIST as arrays; STRUCT as
 *   objects; MAP as `{ key, value }` arrays.
 * - On the task's signal (a cancelled run, its timeout), the running statement is interrupted.
 *   Tasks that share a connection take turns, a whole file at a time: DuckDB runs one query of a
 *   connection at a time anyway, and so a transaction a file opens is its own.
 *
 * @example
 * import { DuckDBInstance } from '@duckdb/node-api';
 * pipeline.provide('db', async () => (await DuckDBInstance.create('warehouse.duckdb')).connect());
 * pipeline.add(
 *   sqlTask('Ingest', 'sql/ingest.sql', { inputs: 'data/sales.csv', outputs: [{ table: 'sales' }], result: 'none' }),
 *   sqlTask('Totals', 'sql/totals.sql', { dependencies: ['Ingest'], params: { year: 2024 } }),
 * );
 * @example
 * // The rows typed, for the tasks that read them: called with no arguments, sqlTask<Row>() is the same function with Row[] results.
 * const totals = sqlTask<{ region: string; total: number }>()('Totals', 'sql/totals.sql');
 * new Task('Report', { dependencies: [totals] }).process('run', (t) => t.result(totals).map((row) => row.region));
 */
export function sqlTask<Row extends object>(): SqlTaskOfRows<Row>;
export function sqlTask<Name extends string, R extends SqlResult = 'rows'>(name: Name, file: string, options?: SqlTaskOptions & { result?: R }): Task<Name, {}, SqlTaskResult<R>>;
export function sqlTask(...args: [] | [name: string, file: string, options?: SqlTaskOptions]): SqlTaskOfRows<object> | AnyTask {
  if (args.length === 0) return (name, file, options) => sqlTask(name, file, options) as never;
  return sqlFileTask(...args);
}

function sqlFileTask(name: string, file: string, options: SqlTaskOptions = {}): AnyTask {
  const where = `Task "${String(name)}"`;
  if (typeof file !== 'string' || file.trim() === '') {
    throw new InvalidOptionError('file', `${where}: the SQL file must be a path, such as 'sql/ingest.sql', got ${describeValue(file)}.`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError('options', `${where}: options must be an object, got ${describeValue(options)}.`);
  }
  rejectUnknownOptions(where, options, KNOWN_SQL_TASK_OPTIONS);
  const { db = 'db', result = 'rows', ...taskOptions } = options;
  if (typeof db !== 'string' || db.trim() === '') {
    throw new InvalidOptionError('db', `${where}: db must be the name of a resource the pipeline provides, such as 'db', got ${describeValue(db)}.`);
  }
  if (result !== 'rows' && result !== 'none') {
    throw new InvalidOptionError('result', `${where}: result must be 'rows' or 'none', got ${describeValue(result)}.`);
  }
  const params = taskOptions.params ?? {};
  const reserved = RESERVED_PARAMS.find((key) => typeof params === 'object' && params !== null && key in params);
  if (reserved) throw new InvalidOptionError('params', `${where}: the param name ${reserved} is taken by sqlTask, which keeps its ${reserved.slice(1)} option in it. Rename the param.`);
  const sources = typeof taskOptions.sources === 'string' ? [taskOptions.sources] : taskOptions.sources ?? [];
  const uses = Array.isArray(taskOptions.uses) ? taskOptions.uses.filter((used) => used !== db) : taskOptions.uses ?? [];
  const task = new Task(name, {
    ...taskOptions,
    // Spread only when it is an object, so a bad params value reaches Task's own check and message.
    params: typeof params === 'object' && params !== null && !Array.isArray(params) ? { ...params, [DB_KEY]: db, [RESULT_KEY]: result } : params,
    sources: [file, ...sources],
    uses: Array.isArray(uses) ? [db, ...uses] : uses,
    outputs: onDatabase(db, taskOptions.outputs),
  });
  const spec: SqlSpec = { file, db, rows: result === 'rows' };
  return task.process('run', (t) => runSqlFile(t, spec));
}

/** The outputs with the task's `db` for the tables that name none; anything else as it is, for Task to check. */
function onDatabase(db: string, outputs: SqlTaskOptions['outputs']): SqlTaskOptions['outputs'] {
  if (outputs === undefined || db === 'db') return outputs;
  const list: unknown[] = Array.isArray(outputs) ? outputs : [outputs];
  return list.map((output) => {
    if (typeof output === 'string') return isTableOutput(output) && !output.includes('/') ? { table: output.slice('db:'.length), db } : output;
    if (typeof output === 'object' && output !== null && !Array.isArray(output) && !('db' in output)) return { ...(output as TableOutput), db };
    return output;
  }) as (string | TableOutput)[];
}

/** One statement of a SQL file. */
interface SqlStatement {
  /** Its text, from its first word (leading comments left out) to its end, without the `;`. */
  sql: string;
  /** The line of the file its first word is on, from 1. */
  line: number;
}

/**
 * The statements of a SQL file, in order, by dbgate-query-splitter with PostgreSQL's rules, which
 * DuckDB's dialect follows: `'...'` strings (with `''`), `"..."` names, `--` and `/* *\/` comments,
 * `$$...$$` and `$tag$...$tag$` bodies. Pieces that are only comments are not statements.
 */
function sqlStatements(source: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  // Lines are counted as the statements come, in order: one pass over the file, however many there are.
  let counted = 0;
  let line = 1;
  const { postgreSplitterOptions, splitQuery } = sqlSplitterModule();
  for (const item of splitQuery(source, { ...postgreSplitterOptions, returnRichInfo: true })) {
    if (typeof item === 'string') continue;
    const end = (item.trimEnd ?? item.end).position;
    const start = firstWord(source, (item.trimStart ?? item.start).position, end);
    if (start === undefined) continue;
    for (; counted < start; counted++) if (source.charCodeAt(counted) === 10) line++;
    statements.push({ sql: source.slice(start, end), line });
  }
  return statements;
}

/** Where the first word after whitespace and comments is, before `end`; undefined when there is none. */
function firstWord(source: string, from: number, end: number): number | undefined {
  let at = from;
  while (at < end) {
    if (/\s/.test(source[at]!)) at++;
    else if (source.startsWith('--', at)) {
      const newline = source.indexOf('\n', at);
      at = newline === -1 ? end : newline + 1;
    } else if (source.startsWith('/*', at)) {
      // Block comments nest in DuckDB's dialect, as in PostgreSQL's.
      let depth = 0;
      do {
        if (source.startsWith('/*', at)) depth++, at += 2;
        else if (source.startsWith('*/', at)) depth--, at += 2;
        else at++;
      } while (depth > 0 && at < end);
    } else return at;
  }
  return undefined;
}

/** The part of a DuckDBConnection (@duckdb/node-api) a SQL task uses. */
interface SqlConnection {
  run(sql: string): Promise<unknown>;
  runAndReadAll(sql: string): Promise<DuckDBResultReader>;
  prepare(sql: string): Promise<SqlPrepared>;
  interrupt(): void;
}

/** The part of a DuckDBPreparedStatement a SQL task uses. */
interface SqlPrepared {
  readonly parameterCount: number;
  parameterName(index: number): string;
  bind(values: Record<string, null | boolean | number | string>): void;
  start(): SqlPending;
  destroySync(): void;
}

/** The part of a DuckDBPendingResult a SQL task uses. */
interface SqlPending {
  getResult(): Promise<unknown>;
  readAll(): Promise<DuckDBResultReader>;
}

async function runSqlFile(t: TaskContextBase, spec: SqlSpec): Promise<SqlRow[] | undefined> {
  t.signal.throwIfAborted();
  const connection = connectionOf(t, spec.db);
  const statements = sqlStatements(await fs.readFile(spec.file, 'utf8'));
  const params = bindableParams(t.params);
  const toRows = spec.rows ? await rowReader(t.name, spec.db) : undefined;
  if (statements.length === 0) t.log.warn(`${spec.file} has no statements`);
  return exclusively(connection, t.signal, async () => {
    const interrupt = () => connection.interrupt();
    t.signal.addEventListener('abort', interrupt, { once: true });
    try {
      let rows: SqlRow[] = [];
      for (const [index, statement] of statements.entries()) {
        t.signal.throwIfAborted();
        const last = index === statements.length - 1;
        const started = performance.now();
        try {
          const reader = await runStatement(connection, statement.sql, params, last && toRows !== undefined, t.signal);
          if (reader && toRows) rows = toRows(reader);
        } catch (error) {
          // Interrupted on purpose: the run reports its own reason (cancelled, timed out).
          if (t.signal.aborted) throw t.signal.reason;
          const detail = (error as Error)?.message ?? String(error);
          throw new SqlStatementError(t.name, spec.file, index + 1, statement.line, statement.sql, withFileLines(detail, statement.line), { cause: error });
        }
        const start = statement.sql.replace(/\s+/g, ' ');
        t.log.debug(
          { statement: index + 1, line: statement.line, ms: Math.round(performance.now() - started) },
          `statement ${index + 1} (line ${statement.line}): ${start.length > LOG_STATEMENT_CHARS ? `${start.slice(0, LOG_STATEMENT_CHARS)}…` : start}`,
        );
      }
      t.log.info(`ran ${statements.length} statement${statements.length === 1 ? '' : 's'} of ${spec.file}`);
      return toRows ? rows : undefined;
    } finally {
      t.signal.removeEventListener('abort', interrupt);
    }
  });
}

/** The task's DuckDB connection, or a ResourceError that says what the resource is instead. */
function connectionOf(t: TaskContextBase, db: string): SqlConnection {
  const value = t.use<Partial<SqlConnection> & { connect?: unknown }>(db);
  if (typeof value?.prepare === 'function' && typeof value.runAndReadAll === 'function' && typeof value.interrupt === 'function') return value as SqlConnection;
  const hint = typeof value?.connect === 'function'
    ? ' It looks like a DuckDBInstance: provide a connection, pipeline.provide(\'' + db + '\', async () => (await DuckDBInstance.create(file)).connect()).'
    : ` Got ${describeValue(value)}.`;
  throw new ResourceError(db, `${t.name}: the resource "${db}" must be a DuckDB connection (a DuckDBConnection from @duckdb/node-api).${hint}`);
}

/** The task's params as values DuckDB binds, without the keys sqlTask keeps its options in. */
function bindableParams(params: TaskContextBase['params']): Record<string, null | boolean | number | string> {
  const bindable: Record<string, null | boolean | number | string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (RESERVED_PARAMS.includes(key)) continue;
    // DuckDB cannot tell the type of a list or struct from a JavaScript value alone; JSON text it can cast.
    bindable[key] = typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
  }
  return bindable;
}

/**
 * Runs one statement; with `read`, reads its rows. The statement is prepared, bound from the
 * params when it names parameters (`$year`), and started as a pending query before it runs:
 * DuckDB forgets an interrupt that comes before a query has begun, and once the pending query
 * exists, one that comes at any later moment stops it. The signal is checked in between.
 */
async function runStatement(
  connection: SqlConnection,
  sql: string,
  params: Record<string, null | boolean | number | string>,
  read: boolean,
  signal: AbortSignal,
): Promise<DuckDBResultReader | undefined> {
  let prepared: SqlPrepared;
  try {
    prepared = await connection.prepare(sql);
  } catch (error) {
    // A statement DuckDB expands into several (a PIVOT without IN) cannot be prepared, and so has
    // no parameters: it goes as it is, and an interrupt in the moment before it begins is lost.
    if (!/Cannot prepare multiple statements/.test((error as Error)?.message ?? '')) throw error;
    signal.throwIfAborted();
    if (read) return connection.runAndReadAll(sql);
    await connection.run(sql);
    return undefined;
  }
  let pending: SqlPending;
  try {
    const values: Record<string, null | boolean | number | string> = {};
    for (let index = 1; index <= prepared.parameterCount; index++) {
      const name = prepared.parameterName(index);
      if (!Object.hasOwn(params, name)) {
        const known = Object.keys(params);
        throw new Error(`it uses the parameter $${name}, which is not one of the task's params (${known.length > 0 ? known.join(', ') : 'it has none'}). Add it to params.`);
      }
      values[name] = params[name]!;
    }
    if (prepared.parameterCount > 0) prepared.bind(values);
    signal.throwIfAborted();
    pending = prepared.start();
  } finally {
    prepared.destroySync();
  }
  if (read) return pending.readAll();
  await pending.getResult();
  return undefined;
}

/**
 * DuckDB's message with the `LINE n:` of its excerpt counted in the file, not in the statement,
 * and the caret under it moved to match.
 */
function withFileLines(message: string, firstLine: number): string {
  return message.replace(/^LINE (\d+): (.*)\n( *)\^/m, (_, n: string, text: string, pad: string) => {
    const label = `LINE ${firstLine + Number(n) - 1}: `;
    return `${label}${text}\n${' '.repeat(Math.max(0, pad.length + label.length - `LINE ${n}: `.length))}^`;
  });
}

let converter: Promise<DuckDBValueConverter<SqlValue>> | undefined;

/**
 * Reads a result's rows as plain values the cache keeps. @duckdb/node-api is loaded here, on
 * first use: pipelines without SQL tasks never need it installed.
 */
async function rowReader(task: string, db: string): Promise<(reader: DuckDBResultReader) => SqlRow[]> {
  converter ??= import('@duckdb/node-api').then(valueConverter, (error: unknown) => {
    converter = undefined;
    throw error;
  });
  let convert: DuckDBValueConverter<SqlValue>;
  try {
    convert = await converter;
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new ResourceError(db, `${task}: reading the rows of a SQL task needs the package @duckdb/node-api, which is not installed. Install it (npm install @duckdb/node-api), or set result: 'none'.`, { cause: error });
  }
  return (reader) => reader.convertRowObjects(convert) as SqlRow[];
}

/** DuckDB's own JavaScript conversion, changed where its values would not suit the cache or a reader (see sqlTask). */
function valueConverter(duckdb: typeof import('@duckdb/node-api')): DuckDBValueConverter<SqlValue> {
  const { DuckDBTypeId: id, DuckDBDecimalValue, JSDuckDBValueConverter: base } = duckdb;
  const convert: DuckDBValueConverter<SqlValue> = (value, type, self) => {
    if (value === null) return null;
    switch (type.typeId) {
      case id.BIGINT:
      case id.UBIGINT:
      case id.HUGEINT:
      case id.UHUGEINT:
      case id.BIGNUM:
        return exactNumber(value as bigint);
      case id.DECIMAL: {
        const decimal = value as InstanceType<typeof DuckDBDecimalValue>;
        const double = decimal.toDouble();
        return DuckDBDecimalValue.fromDouble(double, decimal.width, decimal.scale).value === decimal.value ? double : decimal.toString();
      }
      case id.DATE:
      case id.TIMESTAMP:
      case id.TIMESTAMP_S:
      case id.TIMESTAMP_MS:
      case id.TIMESTAMP_NS:
      case id.TIMESTAMP_TZ: {
        if (!(value as { isFinite: boolean }).isFinite) {
          // DuckDB keeps infinity as the largest value of the type's one field (days, micros...), -infinity as its negative.
          return (Object.values(value as object)[0] as number | bigint) > 0 ? 'infinity' : '-infinity';
        }
        try {
          return base(value, type, self) as Date;
        } catch {
          // A moment before or after what a JavaScript Date holds: DuckDB's text of it.
          return String(value);
        }
      }
      case id.TIME:
      case id.TIME_NS:
      case id.TIME_TZ:
        return String(value);
      case id.INTERVAL: {
        const { months, days, micros } = value as { months: number; days: number; micros: bigint };
        return { months, days, micros: exactNumber(micros) };
      }
      default:
        return base(value, type, self) as SqlValue;
    }
  };
  return convert;
}

/** A bigint as a number when a number holds it exactly. */
function exactNumber(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
