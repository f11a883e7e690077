import path from 'node:path';
import type Keyv from 'keyv';
import type { KeyvStoreAdapter } from 'keyv';
import { InvalidOptionError } from '../../errors.js';
import { describeValue } from '../../names.js';
import type { EncodedValue } from '../codec.js';
import type { StoredValue } from '../entry.js';
import type { FileFormat } from '../formats/format.js';
import type { LeaseBackend } from '../leases.js';
import { STORE_SCHEMES, parseStoreUrl } from './shared-store.js';

/**
 * What a pipeline's cache is kept in. The ResultStore (entries, values, history, damage checks)
 * works through this contract alone, and every backend passes the one suite in
 * test/store-contract.test.ts:
 * - `SqliteBackend`, the default: a file in the cache folder, large values in files beside it;
 * - `UrlBackend`, a team cache on Redis or PostgreSQL, large values under keys of their own;
 * - `KeyvBackend`, a Keyv instance, Keyv store adapter or Map the user gives.
 */
export interface Backend {
  /** For messages: a file path, a URL without its password, or "the configured Keyv store". */
  readonly location: string;
  /** Resolves once connected and checked; rejects with the reason the store cannot be used. */
  readonly ready: Promise<void>;
  /** The values of keys (without the namespace), in order: undefined when absent, UNREADABLE_ROW when the row is damaged. */
  readMany(keys: readonly string[]): Promise<unknown[]>;
  /** Sets and deletes keys: all or none, where the backend has transactions. */
  writeBatch(sets: readonly { key: string; value: unknown }[], deletes: readonly string[]): Promise<void>;
  /** Every key starting with `prefix` (without the namespace) and its value; undefined when the backend cannot list. */
  list(prefix: string): Promise<[key: string, value: unknown][] | undefined>;
  /** Where results too large for their entry go. */
  readonly values: LargeValues;
  /** Coordination between processes; undefined where the backend has no atomic operation to build a lease on. */
  readonly leases: Promise<LeaseBackend> | undefined;
  close(): Promise<void>;
}

/** Results kept apart from their entries. */
export interface LargeValues {
  /**
   * Whether a large result goes apart from its entry as a matter of course (files, keys of
   * their own); where not, results stay inside their entries up to STORE_VALUE_LIMIT.
   */
  readonly apart: boolean;
  /** Stores a result's bytes under a name (the task's); the reference an entry keeps, and the bytes' hash. */
  write(name: string, encoded: EncodedValue): Promise<{ hash: string; value: StoredValue }>;
  /**
   * Stores a value that a format writes as a file of its own (a polars DataFrame) as that file;
   * undefined where the backend keeps no files.
   */
  writeFile?(name: string, format: FileFormat, value: unknown): Promise<{ hash: string; value: StoredValue }>;
  /** The bytes a reference points to; an error that says what to do when they are gone. */
  read(task: string, value: StoredValue): Promise<Uint8Array>;
  /** Whether a value's bytes are known to be as written without hashing them (see ResultFiles.unchanged). */
  unchanged?(value: StoredValue): Promise<boolean>;
  /** The path of a value kept as a format's file (see writeFile), for its format to read; undefined for other values. */
  fileOf?(value: StoredValue): string | undefined;
  /** Removes values no entry refers to any more; failures leave them behind, taking space but harmless. */
  remove(values: readonly StoredValue[]): Promise<void>;
  /** Removes every value of the pipeline (clear). */
  clear(): Promise<void>;
}

/** What readMany gives for a row that is not JSON: its reader sets the entry aside. */
export const UNREADABLE_ROW = Symbol('unreadable row');

/** The `store` setting of a pipeline: a URL, a Keyv instance or adapter, or a Map. */
export type StoreSetting = string | KeyvStoreAdapter | Keyv | Map<unknown, unknown>;

/**
 * Where a pipeline's cache is, decided once from its settings: what opens it, and what the
 * pipeline tells its users (whether other processes can share it).
 */
export type StoreChoice =
  | { kind: 'sqlite'; file: string; cacheDir: string; shared: false; description: string }
  | { kind: 'url'; url: string; shown: string; shared: true; description: string }
  | { kind: 'keyv'; store: Exclude<StoreSetting, string>; shared: boolean; description: string };

/**
 * The store a setting names, checked: a URL is parsed here, once. `where` starts messages
 * (`Pipeline "Sales"`, `Pipeline "Sales": LITTLEPIPES_STORE`).
 */
export function chooseStore(setting: unknown, cacheDir: string, where: string): StoreChoice {
  if (setting === undefined) {
    const file = path.join(cacheDir, 'cache.sqlite');
    return { kind: 'sqlite', file, cacheDir, shared: false, description: `the local SQLite file ${file}` };
  }
  if (typeof setting === 'string') {
    const { shown } = parseStoreUrl(setting, where);
    return { kind: 'url', url: setting, shown, shared: true, description: shown };
  }
  if (!isKeyvStore(setting)) {
    throw new InvalidOptionError(
      'store',
      `${where}: store must be a URL (${Object.keys(STORE_SCHEMES).map((scheme) => `${scheme}//`).join(', ')}), a Keyv instance, a Keyv store adapter (with get, set, delete and clear) or a Map, got ${describeValue(setting)}.`,
    );
  }
  // A Map lives in this process: workers elsewhere cannot read it. A Keyv instance wraps its adapter in `store`.
  const inner = typeof (setting as { store?: unknown }).store === 'object' && 'opts' in setting ? (setting as { store: unknown }).store : setting;
  const inMemory = inner instanceof Map;
  return { kind: 'keyv', store: setting, shared: !inMemory, description: inMemory ? "a Map in this process's memory" : 'the configured Keyv store' };
}

function isKeyvStore(store: unknown): store is Exclude<StoreSetting, string> {
  if (store instanceof Map) return true;
  if (typeof store !== 'object' || store === null) return false;
  const methods = store as Record<string, unknown>;
  return ['get', 'set', 'delete', 'clear'].every((method) => typeof methods[method] === 'function');
}
