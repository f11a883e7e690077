import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import { redactUrl } from '../../cache/backends/shared-store.js';
import { ExecutorError } from '../../errors.js';
import { importOptional } from './optional-package.js';

/** How long connecting to Redis may take before the executor gives up, rather than retrying for ever. */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * A Redis connection for BullMQ (which wants `maxRetriesPerRequest: null`), opened only after a
 * probe that connects once, without retries, within CONNECT_TIMEOUT_MS: an unreachable Redis is
 * a clear error at once instead of a run that waits for ever.
 */
export async function connectRedis(url: string, who: string): Promise<RedisClient> {
  const { Redis } = await importOptional<{ Redis: new (url: string, options: RedisOptions) => RedisClient }>('ioredis', 'bullmq');
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // connect() rejects with "Connection is closed."; the socket's own error says why.
  let cause: Error | undefined;
  probe.on('error', (error: Error) => void (cause ??= error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    probe.disconnect();
    const why = (cause ?? (error as Error)).message.replace(/\.$/, '');
    throw new ExecutorError('bullmq', `${who}: cannot reach Redis at ${redactUrl(url)}: ${why}. Start Redis there, or fix the URL.`, { cause: cause ?? error });
  }
  await probe.quit().catch(() => {});
  const connection = new Redis(url, { maxRetriesPerRequest: null, connectTimeout: CONNECT_TIMEOUT_MS });
  connection.on('error', () => {}); // ioredis reconnects; BullMQ's calls report what fails.
  return connection;
}

/** Whether `value` is a Redis URL BullMQ can connect to. */
export function isRedisUrl(value: unknown): value is string {
  return typeof value === 'string' && /^rediss?:\/\/[^\s]+$/.test(value);
}
