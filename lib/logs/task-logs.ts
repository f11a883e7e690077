import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { pinoModule } from '../deferred-packages.js';

/** A task's log file is moved to `<task>.log.1` when it passes this size, so a log holds at most twice this. */
const DEFAULT_MAX_BYTES = 1024 * 1024;
/** Lines wait in memory at most this long before they are appended to their files. */
const FLUSH_DELAY_MS = 1000;
/** Files appended at once: enough to overlap slow file creation, few enough to leave libuv's threads to SQLite. */
const WRITE_CONCURRENCY = 2;

/**
 * The task logs of one folder (`.littlepipes/logs/<pipeline>`): a pino logger per task name,
 * writing JSON lines to `<task>.log`.
 *
 * Creating a pino instance costs about 30 µs and a child logger about 3, so there is one pino
 * root per folder and a child per task, bound to `{task}`. The root writes to a router that files
 * each line under the task named by its first `"task"` binding (task names contain no quotes) and
 * buffers it. Buffers are appended to their files asynchronously, like pino's own destination: a
 * run never waits on log files (creating thousands of them can take seconds on a slow disk).
 * `flush()` resolves once everything logged so far is written; lines still buffered when the
 * process is about to exit are written then.
 */
export class TaskLogs {
  static readonly #byFolder = new Map<string, TaskLogs>();

  /** The logs of `folder`; the same instance, and so the same loggers, for every caller in the process. */
  static in(folder: string): TaskLogs {
    const resolved = path.resolve(folder);
    let logs = TaskLogs.#byFolder.get(resolved);
    if (!logs) {
      logs = new TaskLogs(resolved);
      TaskLogs.#byFolder.set(resolved, logs);
    }
    return logs;
  }

  /** Starts writing what every folder has buffered (the event loop then stays alive until it is written). */
  static flushAll(): void {
    for (const logs of TaskLogs.#byFolder.values()) void logs.flush();
  }

  /** Writes what every folder has buffered synchronously: for `process.exit()`, which waits for nothing. */
  static flushAllSync(): void {
    for (const logs of TaskLogs.#byFolder.values()) logs.#writeSync();
  }

  readonly folder: string;
  #root: Logger;
  #redact: readonly string[] = [];
  readonly #loggers = new Map<string, Logger>();
  #pending = new Map<string, string[]>();
  /** Bytes in each file written by this process, once its size has been read. */
  readonly #sizes = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #broken: string | undefined;
  maxBytes = DEFAULT_MAX_BYTES;

  private constructor(folder: string) {
    this.folder = folder;
    this.#root = this.#makeRoot('info');
  }

  #makeRoot(level: string): Logger {
    const redact = this.#redact.length > 0 ? { redact: { paths: [...this.#redact], censor: '[redacted]' } } : {};
    return pinoModule().default({ level, ...redact }, { write: (line: string) => this.#route(line) });
  }

  /**
   * Fields written as `[redacted]` in every task's lines (pino's redact paths, such as
   * `password` or `headers.authorization`). Changing them makes new loggers.
   */
  set redact(paths: readonly string[]) {
    if (paths.length === this.#redact.length && paths.every((entry, index) => entry === this.#redact[index])) return;
    this.#redact = [...paths];
    this.#root = this.#makeRoot(this.#root.level);
    this.#loggers.clear();
  }

  /** The logger of a task; created once per task name. */
  logger(task: string): Logger {
    let logger = this.#loggers.get(task);
    if (!logger) {
      logger = this.#root.child({ task });
      this.#loggers.set(task, logger);
    }
    return logger;
  }

  /**
   * Writes one info line of the runner's own ("started", "served from cache", "done in N ms") to a
   * task's file, with `fields` beside the message. Once the task has a logger (it used `t.log`),
   * through that logger, whose level may have been changed; before, the line pino would write is
   * made directly: a child logger and a pino call for every task were most of what a run of
   * thousands of small tasks spent on logs.
   */
  note(task: string, message: string, fields?: Readonly<Record<string, string | number>>): void {
    const logger = this.#loggers.get(task) ?? (fields && this.#redact.length > 0 ? this.logger(task) : undefined);
    if (logger) {
      if (fields) logger.info(fields, message);
      else logger.info(message);
      return;
    }
    if (!this.#root.isLevelEnabled('info')) return;
    // Task names need no escaping (see names.ts); the messages and field names are the runner's own.
    const bindings = (this.#root as unknown as Record<symbol, string>)[pinoModule().symbols.chindingsSym];
    let line = `{"level":30,"time":${Date.now()}${bindings},"task":"${task}"`;
    if (fields) for (const key in fields) line += `,"${key}":${JSON.stringify(fields[key])}`;
    this.#buffer(task, `${line},"msg":${JSON.stringify(message)}}\n`);
  }

  /** Lines a task logged in a worker thread (pino's JSON lines, each ending in a newline), filed as its own. */
  append(task: string, lines: readonly string[]): void {
    for (const line of lines) this.#buffer(task, line);
  }

  /** The file a task's lines go to. */
  file(task: string): string {
    return path.join(this.folder, `${task}.log`);
  }

  /** Sets the least severe level written (`trace`, `debug`, `info`, `warn`, `error`, `fatal`, `silent`). */
  set level(level: string) {
    if (this.#root.level === level) return; // Every pipeline sets it; only a change touches each logger.
    this.#root.level = level;
    for (const logger of this.#loggers.values()) logger.level = level;
  }

  /** Appends every buffered line to its file; resolves when all lines logged so far are written. Never rejects. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size > 0) {
      const batch = [...this.#pending];
      this.#pending = new Map();
      this.#writing = this.#writing.then(() => this.#write(batch));
    }
    return this.#writing;
  }

  #route(line: string): void {
    const start = line.indexOf('"task":"') + 8;
    this.#buffer(line.slice(start, line.indexOf('"', start)), line);
  }

  #buffer(task: string, line: string): void {
    const lines = this.#pending.get(task);
    if (lines) lines.push(line);
    else this.#pending.set(task, [line]);
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS).unref();
  }

  async #write(batch: [string, string[]][]): Promise<void> {
    if (this.#broken) return;
    try {
      await fs.promises.mkdir(this.folder, { recursive: true, mode: 0o700 });
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          const [task, lines] = batch[next++]!;
          await this.#append(task, lines.join(''));
        }
      };
      await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
    } catch (error) {
      this.#disable(error);
    }
  }

  async #append(task: string, text: string): Promise<void> {
    const file = this.file(task);
    let size = this.#sizes.get(file);
    if (size === undefined) size = await fs.promises.stat(file).then((stat) => stat.size, () => 0);
    if (size > 0 && size + text.length > this.maxBytes) {
      await fs.promises.rename(file, `${file}.1`);
      size = 0;
    }
    this.#sizes.set(file, size + Buffer.byteLength(text));
    await fs.promises.appendFile(file, text, { mode: 0o600 });
  }

  #writeSync(): void {
    if (this.#broken || this.#pending.size === 0) return;
    const batch = [...this.#pending];
    this.#pending = new Map();
    try {
      fs.mkdirSync(this.folder, { recursive: true, mode: 0o700 });
      for (const [task, lines] of batch) fs.appendFileSync(this.file(task), lines.join(''), { mode: 0o600 });
    } catch (error) {
      this.#disable(error);
    }
  }

  /** Logs must never break a run: warn once and go on without them. */
  #disable(error: unknown): void {
    this.#broken = (error as Error).message;
    process.emitWarning(
      `littlepipes cannot write task logs in ${this.folder} (${this.#broken}); logging to files is off for this process. Check that the folder is writable.`,
    );
  }
}

// Lines still buffered when the event loop empties are written then; process.exit() gets them synchronously.
process.on('beforeExit', () => TaskLogs.flushAll());
process.once('exit', () => TaskLogs.flushAllSync());
