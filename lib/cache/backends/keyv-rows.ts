import type Keyv from 'keyv';
import type { KeyvStoreAdapter } from 'keyv';
import { UNREADABLE_ROW } from './backend.js';

/**
 * Rows through Keyv, as every backend keeps its entries: in Keyv's `{ value, expires }` envelope
 * under `namespace:key`, so that a cache stays readable by Keyv itself. Batches go to the
 * adapter directly when it can take them (Keyv's own getMany and setMany await an asynchronous
 * (de)serializer per row, about 4 µs each: most of a cached run of 10,000 tasks).
 */
export class KeyvRows {
  constructor(readonly keyv: Keyv) {}

  get #adapter(): KeyvStoreAdapter {
    return this.keyv.store as KeyvStoreAdapter;
  }

  /** Whether rows can go to the adapter as Keyv would write them: JSON, no compression, namespaced keys. */
  get #direct(): boolean {
    return this.keyv.serialize === JSON.stringify && !this.keyv.compression && this.keyv.useKeyPrefix && this.keyv.namespace !== undefined;
  }

  async readMany(keys: readonly string[]): Promise<unknown[]> {
    const adapter = this.#adapter;
    if (typeof adapter.getMany !== 'function' || !this.keyv.useKeyPrefix || this.keyv.namespace === undefined) return this.#readEach(keys);
    const namespace = this.keyv.namespace;
    const rows = await adapter.getMany(keys.map((key) => `${namespace}:${key}`));
    const now = Date.now();
    return rows.map((row) => {
      let envelope: { value?: unknown; expires?: number } | undefined | null;
      try {
        envelope = (typeof row === 'string' ? JSON.parse(row) : row) as typeof envelope;
      } catch {
        // One damaged row must not stop every run: it reads as damaged, and its reader sets it aside.
        return UNREADABLE_ROW;
      }
      return envelope && (typeof envelope.expires !== 'number' || envelope.expires > now) ? envelope.value : undefined;
    });
  }

  /** Keyv's own reads, one key at a time so that a row that does not parse is only that row. */
  async #readEach(keys: readonly string[]): Promise<unknown[]> {
    return Promise.all(keys.map((key) => this.keyv.get(key).catch((error: unknown) => (error instanceof SyntaxError ? UNREADABLE_ROW : Promise.reject(error)))));
  }

  async writeMany(entries: readonly { key: string; value: unknown }[]): Promise<void> {
    if (entries.length === 0) return;
    const adapter = this.#adapter;
    if (typeof adapter.setMany !== 'function' || !this.#direct) {
      await this.keyv.setMany([...entries]);
      return;
    }
    const namespace = this.keyv.namespace;
    // Keyv's `{ value }` envelope (no `expires`: entries never have a TTL).
    await adapter.setMany(entries.map(({ key, value }) => ({ key: `${namespace}:${key}`, value: JSON.stringify({ value }) })));
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.keyv.deleteMany([...keys]);
  }

  /** Every key of this namespace starting with `prefix`, through the adapter's iterator; undefined when it has none. */
  async list(prefix: string): Promise<[string, unknown][] | undefined> {
    if (typeof this.keyv.iterator !== 'function' || typeof this.#adapter.iterator !== 'function') return undefined;
    const namespace = this.keyv.namespace;
    const found: [string, unknown][] = [];
    for await (const [rawKey, value] of this.keyv.iterator(undefined)) {
      const key = typeof rawKey === 'string' && namespace !== undefined && rawKey.startsWith(`${namespace}:`) ? rawKey.slice(namespace.length + 1) : rawKey;
      if (typeof key === 'string' && key.startsWith(prefix)) found.push([key, value]);
    }
    return found;
  }

  close(): Promise<void> {
    return this.keyv.disconnect().catch(() => {});
  }
}
