import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { CacheStoreError } from '../../errors.js';
import { hashResult } from '../../fingerprint/hash.js';
import type { EncodedValue } from '../codec.js';
import type { StoredValue } from '../entry.js';
import type { Backend, LargeValues, StoreSetting } from './backend.js';
import { KeyvRows } from './keyv-rows.js';

/**
 * A Keyv instance, Keyv store adapter or Map that the user gives. Results stay inside their
 * entries (base64), up to STORE_VALUE_LIMIT; one a worker hands over goes under a key of its own
 * (`ref`). No leases: a plain adapter offers no atomic operation to build one on.
 */
export class KeyvBackend implements Backend {
  readonly location = 'the configured Keyv store';
  readonly ready: Promise<void>;
  readonly values: LargeValues;
  readonly leases = undefined;
  readonly #rows: KeyvRows;

  constructor(store: Exclude<StoreSetting, string>, namespace: string, check: (backend: Backend) => Promise<void>) {
    let keyv: Keyv;
    if (store instanceof Keyv) {
      keyv = store;
      keyv.namespace = namespace;
    } else {
      keyv = new Keyv({ store: store as KeyvStoreAdapter, namespace, serialize: JSON.stringify, deserialize: JSON.parse, throwOnErrors: true, emitErrors: false });
    }
    const rows = new KeyvRows(keyv);
    this.#rows = rows;
    this.ready = check(this);
    const location = this.location;
    this.values = {
      apart: false,
      async write(name: string, encoded: EncodedValue): Promise<{ hash: string; value: StoredValue }> {
        const bytes = encoded.bytes;
        const hash = hashResult(bytes);
        const ref = `value:${name}:${hash}`;
        await rows.writeMany([{ key: ref, value: bytes.toString('base64') }]);
        return { hash, value: { ref, bytes: bytes.length } };
      },
      async read(task: string, value: StoredValue): Promise<Uint8Array> {
        const [text] = 'ref' in value ? await rows.readMany([value.ref]) : [undefined];
        if (typeof text !== 'string') {
          throw new CacheStoreError(`The cached result of ${task}${'ref' in value ? ` (${value.ref})` : ''} is missing from ${location}. Clear it with pipeline.clear(['${task}']) and run again.`);
        }
        return Buffer.from(text, 'base64');
      },
      async remove(values: readonly StoredValue[]): Promise<void> {
        await rows.deleteMany(values.flatMap((value) => ('ref' in value ? [value.ref] : [])));
      },
      clear: async () => {},
    };
  }

  readMany(keys: readonly string[]): Promise<unknown[]> {
    return this.#rows.readMany(keys);
  }

  async writeBatch(sets: readonly { key: string; value: unknown }[], deletes: readonly string[]): Promise<void> {
    await this.#rows.writeMany(sets);
    await this.#rows.deleteMany(deletes);
  }

  list(prefix: string): Promise<[string, unknown][] | undefined> {
    return this.#rows.list(prefix);
  }

  close(): Promise<void> {
    return this.#rows.close();
  }
}
