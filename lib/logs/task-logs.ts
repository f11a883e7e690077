import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

/** A task's log file is moved to `<task>.log.1` when it passes this size, so a log holds at most twice this. */
const DEFAULT_MAX_BYTES = 1024 * 1024;
/** Lines wait in memory at most this long before they are appended to their files. */
const FLUSH_DELAY_MS = 1000;

/**
 * The task logs of one folder (`.littlepipes/logs/<pipeline>`): a pino logger per task name,
 * writing JSON lines to `<task>.log`.
 *
 * Creating a pino instance costs about 30 µs and a child logger about 3, so there is one pino
 * root per folder and a child per task, bound to `{task}`. The root writes to a router that files
 * each line under the task named by its first `"task"` binding (task names contain no quotes),
 * buffers it, and appends each task's lines in one write.
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

  /** Writes the lines of every folder now; used when the process exits. */
  static flushAll(): void {
    for (const logs of TaskLogs.#byFolder.values()) logs.flush();
  }

  readonly folder: string;
  readonly #root: Logger;
  readonly #loggers = new Map<string, Logger>();
  readonly #pending = new Map<string, string[]>();
  /** Bytes in each file written by this process, once its size has been read. */
  readonly #sizes = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #folderReady = false;
  #broken: string | undefined;
  maxBytes = DEFAULT_MAX_BYTES;

  private constructor(folder: string) {
    this.folder = folder;
    this.#root = pino({ level: 'info' }, { write: (line: string) => this.#route(line) });
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

  /** The file a task's lines go to. */
  file(task: string): string {
    return path.join(this.folder, `${task}.log`);
  }

  /** Sets the least severe level written (`trace`, `debug`, `info`, `warn`, `error`, `fatal`, `silent`). */
  set level(level: string) {
    this.#root.level = level;
    for (const logger of this.#loggers.values()) logger.level = level;
  }

  /** Appends every buffered line to its file now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return;
    const pending = [...this.#pending];
    this.#pending.clear();
    if (this.#broken) return;
    try {
      if (!this.#folderReady) fs.mkdirSync(this.folder, { recursive: true });
      this.#folderReady = true;
      for (const [task, lines] of pending) this.#append(task, lines.join(''));
    } catch (error) {
      // Logs must never break a run: warn once and keep running without them.
      this.#broken = (error as Error).message;
      process.emitWarning(`littlepipes cannot write task logs in ${this.folder} (${this.#broken}); logging to files is off for this process. Check that the folder is writable.`);
    }
  }

  #route(line: string): void {
    const start = line.indexOf('"task":"') + 8;
    const task = line.slice(start, line.indexOf('"', start));
    const lines = this.#pending.get(task);
    if (lines) lines.push(line);
    else this.#pending.set(task, [line]);
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
  }

  #append(task: string, text: string): void {
    const file = this.file(task);
    let size = this.#sizes.get(file);
    if (size === undefined) {
      try {
        size = fs.statSync(file).size;
      } catch {
        size = 0;
      }
    }
    if (size > 0 && size + text.length > this.maxBytes) {
      fs.renameSync(file, `${file}.1`);
      size = 0;
    }
    fs.appendFileSync(file, text);
    this.#sizes.set(file, size + Buffer.byteLength(text));
  }
}

process.once('exit', () => TaskLogs.flushAll());
