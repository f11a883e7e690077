import os from 'node:os';
import type { StoreChoice } from '../../cache/backends/backend.js';
import type { ResultStore } from '../../cache/store.js';
import { CONFIG_FILE } from '../../config/project-config.js';
import { ExecutorError, InvalidOptionError } from '../../errors.js';
import type { TaskLogs } from '../../logs/task-logs.js';
import { describeValue, suggest } from '../../names.js';
import type { AnyTask } from '../../task.js';
import { EXECUTORS, type ExecutorName, type TaskExecutor, sharedStoreAdvice } from './executor.js';
import { isRedisUrl } from './redis-connection.js';
import type { ThreadsExecutor } from './threads-executor.js';

/** The executor of a run, with its own settings, validated. */
export type ExecutorChoice = { name: 'local' } | { name: 'threads'; threads: number } | { name: 'bullmq'; connection: string };

/** What a run falls back on when execute() names no executor or connection, and where each came from. */
export interface ExecutorDefaults {
  executor?: ExecutorName;
  connection?: DefaultConnection;
}

/** A queue URL the run was not given but found: in LITTLEPIPES_CONNECTION or littlepipes.yaml (`from` names which). */
export interface DefaultConnection {
  url: string;
  from: string;
}

/** The options of `execute()` that choose where tasks run (see ExecuteOptions). */
export interface ExecutorOptions {
  executor?: ExecutorName;
  connection?: string;
  threads?: number;
}

/** The executor and queue a run takes when execute() names none: settings in littlepipes.yaml (`config`), and LITTLEPIPES_CONNECTION over settings.connection. */
export function executorDefaults(config: { file: string; settings: { executor?: ExecutorName; connection?: string } } | undefined): ExecutorDefaults {
  // Read at each run, not when the pipeline is made: the queue is the run's business, not the store's.
  const fromEnvironment = process.env.LITTLEPIPES_CONNECTION || undefined;
  if (fromEnvironment !== undefined) return { executor: config?.settings.executor, connection: { url: fromEnvironment, from: 'LITTLEPIPES_CONNECTION' } };
  const written = config?.settings.connection;
  return { executor: config?.settings.executor, ...(written === undefined ? {} : { connection: { url: written, from: `settings.connection in ${config!.file}` } }) };
}

/** A default queue URL, refused (naming where it came from) when it is not a Redis URL; `who` starts the message. */
export function defaultConnectionUrl({ url, from }: DefaultConnection, who: string): string {
  if (!isRedisUrl(url)) throw new InvalidOptionError('connection', `${who}: ${from} must be a Redis URL such as redis://localhost:6379, got ${describeValue(url)}.`);
  return url;
}

/**
 * Validates the executor options of `execute()`: the executor's name, and the settings only that
 * executor takes. A default connection is only a default: it is used by the bullmq executor and
 * never refused with another one.
 */
export function executorChoice(options: ExecutorOptions, method: string, defaults: ExecutorDefaults): ExecutorChoice {
  const { executor = defaults.executor ?? 'local', connection, threads } = options;
  if (!EXECUTORS.includes(executor as ExecutorName)) {
    const guess = typeof executor === 'string' ? suggest(executor, EXECUTORS) : undefined;
    throw new InvalidOptionError('executor', `${method}(): executor must be one of ${EXECUTORS.map((name) => `'${name}'`).join(', ')}, got ${describeValue(executor)}.${guess ? ` Did you mean '${guess}'?` : ''}`);
  }
  if (connection !== undefined && executor !== 'bullmq') {
    throw new InvalidOptionError('connection', `${method}(): connection is the Redis URL of the bullmq executor; add executor: 'bullmq', or leave connection out.`);
  }
  if (threads !== undefined && executor !== 'threads') {
    throw new InvalidOptionError('threads', `${method}(): threads is the pool size of the threads executor; add executor: 'threads', or leave threads out.`);
  }
  if (executor === 'bullmq') {
    if (connection === undefined && defaults.connection !== undefined) {
      return { name: 'bullmq', connection: defaultConnectionUrl(defaults.connection, `${method}()`) };
    }
    if (connection === undefined) {
      throw new InvalidOptionError('connection', `${method}(): the bullmq executor needs connection, the Redis URL of its queue: execute({ executor: 'bullmq', connection: 'redis://localhost:6379' }), LITTLEPIPES_CONNECTION, or connection under settings in ${CONFIG_FILE}.`);
    }
    if (!isRedisUrl(connection)) throw new InvalidOptionError('connection', `${method}(): connection must be a Redis URL such as 'redis://localhost:6379', got ${describeValue(connection)}.`);
    return { name: 'bullmq', connection };
  }
  if (executor === 'threads') {
    const pool = threads ?? os.availableParallelism();
    if (!Number.isInteger(pool) || pool < 1) throw new InvalidOptionError('threads', `${method}(): threads must be a whole number from 1 up, got ${describeValue(threads)}. Try ${os.availableParallelism()}, the cores available.`);
    return { name: 'threads', threads: pool };
  }
  return { name: 'local' };
}

/** Where results live when other processes cannot reach them (the local SQLite file, an in-memory Map), else undefined. */
export function unsharedStore(choice: StoreChoice): string | undefined {
  return choice.shared ? undefined : choice.description;
}

/** What a pipeline's executors work with: its store's setting and keys; its store, logs and log settings, asked for when an executor opens. */
export interface ExecutorParts {
  pipeline: string;
  choice: StoreChoice;
  namespace: string;
  store(): ResultStore;
  logs(): TaskLogs;
  logSettings(): { level: string; redact: readonly string[] };
}

/**
 * The executors of one pipeline's runs: opens the one a run asked for, and keeps the threads
 * executor's pool between runs, since starting a thread loads littlepipes and the module again.
 */
export class PipelineExecutors {
  readonly #parts: ExecutorParts;
  #threadPool: ThreadsExecutor | undefined;

  constructor(parts: ExecutorParts) {
    this.#parts = parts;
  }

  /** The executor a run asked for, ready to take tasks; undefined for the local one. */
  async open(choice: ExecutorChoice, tasks: Iterable<AnyTask>): Promise<TaskExecutor | undefined> {
    const parts = this.#parts;
    if (choice.name === 'threads') {
      if (this.#threadPool && (this.#threadPool.threads !== choice.threads || !this.#threadPool.current(tasks))) await this.close();
      const { openThreadsExecutor } = await import('./threads-executor.js');
      this.#threadPool ??= await openThreadsExecutor({ threads: choice.threads, logs: parts.logs(), logSettings: parts.logSettings });
      return this.#threadPool;
    }
    if (choice.name !== 'bullmq') return undefined;
    const unshared = unsharedStore(parts.choice);
    if (unshared) {
      throw new ExecutorError('bullmq', `Pipeline "${parts.pipeline}": the bullmq executor needs a store the workers share, and this pipeline's results live in ${unshared}. ${sharedStoreAdvice(parts.pipeline)}`);
    }
    const { openBullmqExecutor } = await import('./bullmq-executor.js');
    return openBullmqExecutor({ connection: choice.connection, namespace: parts.namespace, pipeline: parts.pipeline, store: parts.store() });
  }

  /** Closes the executor of a run that has ended, unless it is the pool kept for the next runs. */
  async release(executor: TaskExecutor | undefined): Promise<void> {
    if (executor !== this.#threadPool) await executor?.close();
  }

  /** Closes the kept pool; the next run that asks for threads starts one anew. */
  async close(): Promise<void> {
    const pool = this.#threadPool;
    this.#threadPool = undefined;
    await pool?.close();
  }
}
