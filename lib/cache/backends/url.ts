import Keyv from 'keyv';
import { CacheStoreError } from '../../errors.js';
import { hashResult } from '../../fingerprint/hash.js';
import type { EncodedValue } from '../codec.js';
import type { StoredValue } from '../entry.js';
import type { LeaseBackend } from '../leases.js';
import type { Backend, LargeValues } from './backend.js';
import { KeyvRows } from './keyv-rows.js';
import { STORE_SCHEMES, type SharedStore, parseStoreUrl } from './shared-store.js';

/**
 * A team cache on a server, given by URL (redis://, postgresql://): entries through Keyv's
 * adapter, leases on the server's atomic operations and clock, and large results as binary
 * chunks under keys of their own, not as base64 inside their entry (a third larger, and fetched
 * by every read of the entries).
 */
export class UrlBackend implements Backend {
  readonly location: string;
  readonly ready: Promise<void>;
  readonly values: LargeValues;
  readonly leases: Promise<LeaseBackend>;
  #shared: SharedStore | undefined;
  #rows: KeyvRows | undefined;

  constructor(url: string, shown: string, namespace: string, check: (backend: Backend) => Promise<void>) {
    this.location = shown;
    this.ready = (async () => {
      this.#shared = await openSharedStore(url);
      this.#rows = new KeyvRows(new Keyv({ store: this.#shared.adapter, namespace, serialize: JSON.stringify, deserialize: JSON.parse, throwOnErrors: true, emitErrors: false }));
      await check(this);
    })().catch(async (error: unknown) => {
      await this.#shared?.close().catch(() => {});
      throw error;
    });
    this.leases = this.ready.then(() => this.#shared!.leases);
    this.leases.catch(() => {});
    const valueKey = (blob: string) => `${namespace}:value:${blob}`;
    const server = () => this.#shared!.values;
    this.values = {
      apart: true,
      async write(name: string, encoded: EncodedValue): Promise<{ hash: string; value: StoredValue }> {
        const bytes = encoded.bytes;
        const hash = hashResult(bytes);
        const blob = `${name}.${hash}.bin`;
        await server().write(valueKey(blob), bytes);
        return { hash, value: { blob, bytes: bytes.length } };
      },
      async read(task: string, value: StoredValue): Promise<Uint8Array> {
        if (!('blob' in value)) throw new CacheStoreError(`The cached result of ${task} is not stored apart in ${shown}. Clear it with pipeline.clear(['${task}']) and run again.`);
        const bytes = await server().read(valueKey(value.blob), value.bytes);
        if (!bytes) {
          throw new CacheStoreError(
            `The cached result of ${task} is missing from ${shown}: another run replaced or removed it meanwhile, or the server evicted it. ` +
              `Run again; if this comes back, clear it with pipeline.clear(['${task}']) (or littlepipes clear ${task}) and run again.`,
          );
        }
        return bytes;
      },
      async remove(values: readonly StoredValue[]): Promise<void> {
        const keys = values.flatMap((value) => ('blob' in value ? [{ key: valueKey(value.blob), size: value.bytes }] : []));
        if (keys.length > 0) await server().remove(keys);
      },
      // The values of a pipeline's entries are removed with its entries (see ResultStore.purge).
      clear: async () => {},
    };
  }

  readMany(keys: readonly string[]): Promise<unknown[]> {
    return this.#rows!.readMany(keys);
  }

  async writeBatch(sets: readonly { key: string; value: unknown }[], deletes: readonly string[]): Promise<void> {
    await this.#rows!.writeMany(sets);
    await this.#rows!.deleteMany(deletes);
  }

  list(prefix: string): Promise<[string, unknown][] | undefined> {
    return this.#rows!.list(prefix);
  }

  async close(): Promise<void> {
    await this.ready.catch(() => {});
    await this.#rows?.close();
  }
}

/** Connects to the store a URL names (see parseStoreUrl), importing its adapter only now. */
export async function openSharedStore(url: string): Promise<SharedStore> {
  const { scheme } = parseStoreUrl(url, 'store');
  if (STORE_SCHEMES[scheme] === '@keyv/redis') return (await import('./redis-store.js')).openRedis(url);
  return (await import('./postgres-store.js')).openPostgres(url);
}
