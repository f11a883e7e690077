import os from 'node:os';
import { CONFIG_FILE } from '../../config/project-config.js';
import { InvalidOptionError } from '../../errors.js';
import { describeValue, suggest } from '../../names.js';
import type { ExecuteOptions } from '../../pipeline-options.js';
import { EXECUTORS, type ExecutorName } from './executor.js';
import { isRedisUrl } from './redis-connection.js';

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
export function executorChoice(options: ExecuteOptions, method: string, defaults: ExecutorDefaults): ExecutorChoice {
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
