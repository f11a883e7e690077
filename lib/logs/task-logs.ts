import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { HISTORY_LENGTH } from '../cache/store.js';
import { pinoModule } from '../deferred-packages.js';
import { pruneRunLogs, runLogFile, runLogFolder } from './run-logs.js';

/** Run logs kept per pipeline: as many runs as the run history remembers, so each run `littlepipes history` lists has its log. */
export const RUN_LOGS_KEPT = HISTORY_LENGTH;
/** A task's log file is moved to `<task>.log.1` when it passes this size, so a log holds at most twice this. */
const DEFAULT_MAX_BYTES = 1024 * 1024;
/** Lines wait in memory at most this long before they are appended to their files. */
const FLUSH_DELAY_MS = 1000;
/** Lines of the run log joined into one string at a time while they wait to be written. */
const JOIN_EVERY = 256;
/** Lines of the run log that are written at once, without waiting for FLUSH_DELAY_MS. */
const WRITE_AT = 4096;
/** Files appended at once: enough to overlap slow file creation, few enough to leave libuv's threads to SQLite. */
const WRITE_CONCURRENCY = 2;

/** The log of the run being logged: its file, and its lines not yet written there. */
interface RunLog {
  readonly file: string;
  /** Its lines waiting to be written: joined JOIN_EVERY at a time, the last ones as they came. */
  lines: string[];
  /** How many of the last lines are not joined yet. */
  unjoined: number;
  /** Whether a batch has been taken for its file yet (the first makes the folder and drops old run logs). */
  begun: boolean;
}

/** Lines taken from a buffer for one file, to be appended there. */
interface Write {
  readonly file: string;
  readonly text: string;
  /** A task's own file, rotated past maxBytes; else a run log. */
  readonly task: boolean;
  /** The first write to a run log, which makes the folder and drops old run logs. */
  readonly opensRun: boolean;
}

/**
 * The logs of one folder (`.littlepipes/logs/<pipeline>`): a task's own lines (its `t.log`, its
 * failures) in `<task>.log`, and the runner's lines about every task (`started`, `served from
 * cache`, `done in N ms`) in one log per run, `runs/<time>-<pid>.log`, with the task as a field.
 * A task's file is created at its first line, so a task served from the cache, or one that ran and
 * logged nothing, costs no file: opening, appending and closing a file per task was most of what
 * a run of thousands of tasks spent after `execute()`. `littlepipes logs TASK` puts the two
 * together again (see task-log-lines.ts). The newest RUN_LOGS_KEPT run logs are kept.
 *
 * Creating a pino instance costs about 30 µs and a child logger about 3, so there is one pino
 * root for tasks' lines, made when the first task logs, with a child per task bound to `{task}`.
 * It writes to a router that files each line under the task named by its first `"task"` binding
 * (task names contain no quotes). The runner's lines are made directly (see note). Lines are buffered
 * and appended to their files asynchronously, like pino's own destination: a run never waits on
 * log files. `flush()` resolves once everything logged so far is written; lines still buffered
 * when the process is about to exit are written then.
 */
export class TaskLogs {
  static readonly #byFolder = new Map<string, TaskLogs>();

  /** The logs of `folder`; the same instance, and so the same loggers, for every caller in the process. */
  static in(folder: string): TaskLogs {
    const resolved = path.resolve(folder);
    let logs = this.#byFolder.get(resolved);
    if (!logs) {
      logs = new this(resolved);
      this.#byFolder.set(resolved, logs);
    }
    return logs;
  }

  /** Starts writing what every folder has buffered (the event loop then stays alive until it is written). */
  static flushAll(): void {
    for (const logs of this.#byFolder.values()) void logs.flush();
  }

  /** Writes what every folder has buffered synchronously: for `process.exit()`, which waits for nothing. */
  static flushAllSync(): void {
    for (const logs of this.#byFolder.values()) logs.#writeSync();
  }

  readonly folder: string;
  #level = 'info';
  /** Tasks' own lines, filed by task; made (and pino loaded) for the first task that logs. */
  #root: Logger | undefined;
  /** The runner's lines with fields to redact, to the log of the current run (see note). */
  #runner: Logger | undefined;
  #redact: readonly string[] = [];
  readonly #loggers = new Map<string, Logger>();
  #pending = new Map<string, string[]>();
  #run: RunLog | undefined;
  /** Writes taken from the buffers and not yet handed to the file system, oldest first. */
  readonly #unwritten = new Set<Write>();
  /** Bytes in each file written by this process, once its size has been read. */
  readonly #sizes = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #broken: string | undefined;
  maxBytes = DEFAULT_MAX_BYTES;

  private constructor(folder: string) {
    this.folder = folder;
  }

  #makeRoot(write: (line: string) => void): Logger {
    const redact = this.#redact.length > 0 ? { redact: { paths: [...this.#redact], censor: '[redacted]' } } : {};
    return pinoModule().default({ level: this.#level, ...redact }, { write });
  }

  /**
   * Fields written as `[redacted]` in every task's lines and the runner's (pino's redact paths,
   * such as `password` or `headers.authorization`). Changing them makes new loggers.
   */
  set redact(paths: readonly string[]) {
    if (paths.length === this.#redact.length && paths.every((entry, index) => entry === this.#redact[index])) return;
    this.#redact = [...paths];
    this.#root = undefined;
    this.#runner = undefined;
    this.#loggers.clear();
  }

  /** The logger of a task, writing to its own file; created once per task name. */
  logger(task: string): Logger {
    let logger = this.#loggers.get(task);
    if (!logger) {
      this.#root ??= this.#makeRoot((line) => this.#route(line));
      logger = this.#root.child({ task });
      this.#loggers.set(task, logger);
    }
    return logger;
  }

  /**
   * Writes one info line of the runner's own ("started", "served from cache", "done in N ms")
   * about a task to the log of the current run, with the task and `fields` beside the message.
   * A run's log begins with its first such line and ends at `flush()`, which the runner calls
   * when the run ends.
   *
   * The line is the one a pino logger would write, made directly: a run of thousands of cached
   * tasks writes little else, pino's general path costs twice as much per line, and a run whose
   * tasks log nothing then does not load pino at all. Fields to redact go through pino, which
   * knows the paths.
   */
  note(task: string, message: string, fields?: Readonly<Record<string, string | number>>): void {
    if (!WRITES_INFO.has(this.#level)) return;
    if (fields && this.#redact.length > 0) {
      (this.#runner ??= this.#makeRoot((line) => this.#bufferRun(line))).info({ task, ...fields }, message);
      return;
    }
    // Task names need no escaping (see names.ts); the field names are the runner's own.
    let line = `{"level":30,"time":${Date.now()}${baseBindings()},"task":"${task}"`;
    if (fields) for (const key in fields) line += `,"${key}":${JSON.stringify(fields[key])}`;
    this.#bufferRun(`${line},"msg":${JSON.stringify(message)}}\n`);
  }

  /** Lines a task logged in a worker thread (pino's JSON lines, each ending in a newline), filed as its own. */
  append(task: string, lines: readonly string[]): void {
    for (const line of lines) this.#buffer(task, line);
  }

  /** The file a task's own lines go to; it exists once the task has logged a line. */
  file(task: string): string {
    return path.join(this.folder, `${task}.log`);
  }

  /** Sets the least severe level written (`trace`, `debug`, `info`, `warn`, `error`, `fatal`, `silent`). */
  set level(level: string) {
    if (this.#level === level) return; // Every pipeline sets it; only a change touches each logger.
    this.#level = level;
    if (this.#root) this.#root.level = level;
    if (this.#runner) this.#runner.level = level;
    for (const logger of this.#loggers.values()) logger.level = level;
  }

  /**
   * Appends every buffered line to its file and ends the current run's log; resolves when all
   * lines logged so far are written. Never rejects.
   */
  flush(): Promise<void> {
    return this.#startWriting(true);
  }

  #startWriting(endRun: boolean): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const writes = this.#take(endRun);
    if (writes.length > 0) this.#writing = this.#writing.then(() => this.#write(writes));
    return this.#writing;
  }

  /** Takes the lines buffered so far, a write per file; with `endRun`, the runner's next line begins another run log. */
  #take(endRun: boolean): Write[] {
    const writes: Write[] = [];
    const run = this.#run;
    if (endRun) this.#run = undefined;
    if (run && run.lines.length > 0) {
      writes.push({ file: run.file, text: run.lines.join(''), task: false, opensRun: !run.begun });
      run.begun = true;
      run.lines = [];
      run.unjoined = 0;
    }
    for (const [task, lines] of this.#pending) writes.push({ file: this.file(task), text: lines.join(''), task: true, opensRun: false });
    this.#pending = new Map();
    for (const write of writes) this.#unwritten.add(write);
    return writes;
  }

  #route(line: string): void {
    const start = line.indexOf('"task":"') + 8;
    this.#buffer(line.slice(start, line.indexOf('"', start)), line);
  }

  #buffer(task: string, line: string): void {
    if (this.#broken) return;
    const lines = this.#pending.get(task);
    if (lines) lines.push(line);
    else this.#pending.set(task, [line]);
    this.#timer ??= setTimeout(() => void this.#startWriting(false), FLUSH_DELAY_MS).unref();
  }

  #bufferRun(line: string): void {
    if (this.#broken) return;
    const run = (this.#run ??= { file: runLogFile(this.folder, new Date()), lines: [], unjoined: 0, begun: false });
    run.lines.push(line);
    // A line is made of the pieces it was put together from until it is joined, several times its
    // size: a run of thousands of tasks keeps them joined in runs of lines while they wait.
    if (++run.unjoined === JOIN_EVERY) {
      run.lines.push(run.lines.splice(-JOIN_EVERY).join(''));
      run.unjoined = 0;
      // Written once there are many, before the timer: a run of thousands of tasks need not hold them all.
      if (run.lines.length * JOIN_EVERY >= WRITE_AT) {
        void this.#startWriting(false);
        return;
      }
    }
    this.#timer ??= setTimeout(() => void this.#startWriting(false), FLUSH_DELAY_MS).unref();
  }

  async #write(writes: Write[]): Promise<void> {
    if (this.#broken) return;
    try {
      for (const write of writes) {
        if (write.task) continue;
        if (write.opensRun) await fs.promises.mkdir(runLogFolder(this.folder), { recursive: true, mode: 0o700 });
        await this.#hand(write);
        if (write.opensRun) await pruneRunLogs(this.folder, RUN_LOGS_KEPT);
      }
      const tasks = writes.filter((write) => write.task);
      if (tasks.length === 0) return;
      await fs.promises.mkdir(this.folder, { recursive: true, mode: 0o700 });
      let next = 0;
      const worker = async () => {
        while (next < tasks.length) await this.#appendToTask(tasks[next++]!);
      };
      await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
    } catch (error) {
      this.#disable(error);
    }
  }

  async #appendToTask(write: Write): Promise<void> {
    const { file, text } = write;
    let size = this.#sizes.get(file);
    if (size === undefined) size = await fs.promises.stat(file).then((stat) => stat.size, () => 0);
    if (size > 0 && size + text.length > this.maxBytes) {
      await fs.promises.rename(file, `${file}.1`);
      size = 0;
    }
    this.#sizes.set(file, size + Buffer.byteLength(text));
    await this.#hand(write);
  }

  /**
   * Appends a write's text to its file. It stops being unwritten only once the file is open and
   * the text on its way, so that the exit writes it if the process ends before (see #writeSync).
   */
  async #hand(write: Write): Promise<void> {
    const handle = await fs.promises.open(write.file, 'a', 0o600);
    try {
      this.#unwritten.delete(write);
      await handle.appendFile(write.text);
    } finally {
      await handle.close();
    }
  }

  /** Writes, synchronously, what is buffered and what was taken but not yet handed to the file system. */
  #writeSync(): void {
    const writes = [...this.#unwritten, ...this.#take(true)];
    this.#unwritten.clear();
    if (this.#broken || writes.length === 0) return;
    try {
      // Folders made whether or not a write opened them: the first may still be on its way with them.
      if (writes.some((write) => !write.task)) fs.mkdirSync(runLogFolder(this.folder), { recursive: true, mode: 0o700 });
      else fs.mkdirSync(this.folder, { recursive: true, mode: 0o700 });
      for (const write of writes) fs.appendFileSync(write.file, write.text, { mode: 0o600 });
    } catch (error) {
      this.#disable(error);
    }
  }

  /** Logs must never break a run: warn once and go on without them. */
  #disable(error: unknown): void {
    this.#broken = (error as Error).message;
    this.#pending = new Map();
    this.#run = undefined;
    this.#unwritten.clear();
    process.emitWarning(
      `littlepipes cannot write task logs in ${this.folder} (${this.#broken}); logging to files is off for this process. Check that the folder is writable.`,
    );
  }
}

/** The levels at which info lines are written: pino's, up to info. */
const WRITES_INFO = new Set(['trace', 'debug', 'info']);

let bindings: string | undefined;
/** What pino writes of its default base bindings, `{ pid, hostname }`, in every line. */
function baseBindings(): string {
  return (bindings ??= `,"pid":${process.pid},"hostname":${JSON.stringify(os.hostname())}`);
}

// Lines still buffered when the event loop empties are written then; process.exit() gets them synchronously.
process.on('beforeExit', () => TaskLogs.flushAll());
process.once('exit', () => TaskLogs.flushAllSync());
