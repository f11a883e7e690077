import type { LeaseBackend } from '../leases.js';
import { type SharedStore, chunkCount, loadOptional } from './shared-store.js';

/**
 * RESP's marker of a bulk string: mapping it to Buffer makes the client hand values back as bytes
 * rather than as text (part of the protocol, so it does not change with the client's version).
 */
const BLOB_STRING = 36;
/**
 * Large values go in strings of this size: well under Redis's 512 MB for one string, and large
 * enough that a value of 100 MB takes 4 (measured: smaller ones are no faster).
 */
const VALUE_CHUNK = 32 * 1024 * 1024;
/** Attempts to reconnect before a command fails: about 3 s in all. */
const RECONNECTS = 5;

/** Takes a lease when free, expired (Redis dropped it), the taker's own, or held by the dead holder named. */
const TAKE = `
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] or current == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/**
 * Renews a presence (a member of a sorted set scored by expiry, on the server's clock) and the
 * leases still held; returns who is present. (Writing after TIME needs effects replication:
 * the default since Redis 5, asked for here for older servers.)
 */
const BEAT = `
redis.replicate_commands()
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for index = 2, #KEYS do
  if redis.call('GET', KEYS[index]) == ARGV[1] then redis.call('PEXPIRE', KEYS[index], ARGV[2]) end
end
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

/** Deletes the leases given if the owner still holds them. */
const RELEASE = `
for index = 1, #KEYS do
  if redis.call('GET', KEYS[index]) == ARGV[1] then redis.call('DEL', KEYS[index]) end
end
return 0`;

/** The few commands of node-redis (the client inside @keyv/redis) used here. */
interface RedisClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  get(key: string): Promise<string | Buffer | null>;
  zRem(key: string, members: string[]): Promise<unknown>;
  multi(): { set(key: string, value: Buffer): unknown; exec(): Promise<unknown> };
  mGet(keys: string[]): Promise<(Buffer | null)[]>;
  del(keys: string[]): Promise<unknown>;
  withTypeMapping(mapping: Record<number, unknown>): RedisClient;
}

/**
 * Redis through @keyv/redis: entries are Keyv's, leases are keys set with an expiry (SET PX) and
 * changed only by Lua scripts, which Redis runs atomically; large values are binary strings of
 * their own, in chunks (Redis refuses a string over 512 MB).
 */
export async function openRedis(url: string): Promise<SharedStore> {
  const { default: KeyvRedis } = await loadOptional<typeof import('@keyv/redis')>('@keyv/redis', () => import('@keyv/redis'), url);
  const adapter = new KeyvRedis(
    // A few quick reconnection attempts, then the error: a server that is down fails the run in
    // seconds, with its reason, rather than leaving it waiting.
    { url, socket: { connectTimeout: 10_000, reconnectStrategy: (retries: number, cause: Error) => (retries >= RECONNECTS ? cause : 100 * 2 ** retries) } },
    { throwOnConnectError: true, throwOnErrors: true },
  );
  adapter.on('error', () => {}); // Reported through the rejected command instead.
  const client = (await adapter.getClient()) as unknown as RedisClient;
  const bytes = client.withTypeMapping({ [BLOB_STRING]: Buffer });
  const leaseKey = (key: string) => `littlepipes:lease:${key}`;
  const presenceKey = (namespace: string) => `littlepipes:presence:${namespace}`;
  const chunkKeys = (key: string, size: number) => Array.from({ length: chunkCount(size, VALUE_CHUNK) }, (_, index) => `littlepipes:value:${key}#${index}`);

  const leases: LeaseBackend = {
    async holder(key) {
      const owner = await client.get(leaseKey(key));
      return owner === null ? undefined : String(owner);
    },
    async take(key, owner, ms, replacing) {
      return (await client.eval(TAKE, { keys: [leaseKey(key)], arguments: [owner, String(ms), replacing ?? owner] })) === 1;
    },
    async beat(namespace, owner, held, ms) {
      const present = (await client.eval(BEAT, { keys: [presenceKey(namespace), ...held.map(leaseKey)], arguments: [owner, String(ms)] })) as string[];
      return present.map(String).filter((other) => other !== owner);
    },
    async forget(namespace, owners) {
      await client.zRem(presenceKey(namespace), [...owners]);
    },
    async release(key, owner) {
      await client.eval(RELEASE, { keys: [leaseKey(key)], arguments: [owner] });
    },
    async leave(namespace, owner, held) {
      await client.zRem(presenceKey(namespace), [owner]);
      if (held.length > 0) await client.eval(RELEASE, { keys: held.map(leaseKey), arguments: [owner] });
    },
  };

  return {
    adapter,
    leases,
    values: {
      async write(key, value) {
        const transaction = client.multi();
        chunkKeys(key, value.length).forEach((chunk, index) => transaction.set(chunk, value.subarray(index * VALUE_CHUNK, (index + 1) * VALUE_CHUNK)));
        await transaction.exec();
      },
      async read(key, size) {
        const chunks = await bytes.mGet(chunkKeys(key, size));
        if (chunks.some((chunk) => chunk === null)) return undefined;
        return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks as Buffer[], size);
      },
      async remove(values) {
        const keys = values.flatMap(({ key, size }) => chunkKeys(key, size));
        if (keys.length > 0) await client.del(keys);
      },
    },
    close: () => adapter.disconnect(),
  };
}
