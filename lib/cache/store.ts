import fs from 'node:fs';
import path from 'node:path';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { CacheStoreError, DamagedResultError, PeerPackageError, ResultTooLargeError, UncacheableResultError } from '../errors.js';
import { hashFile, hashResult, prepareHashing } from '../fingerprint/hash.js';
import { Codec, type EncodedValue, encodeFailure, frameOfFile } from './codec.js';
import type { FileFormat } from './formats/format.js';
import { type CacheEntry, type StoredFile, type StoredValue, entryDamage, isCacheEntry } from './entry.js';
import { Leases } from './leases.js';
import { type SharedStore, openSharedStore, parseStoreUrl } from './shared-store.js';
import { setAsideIfDamaged } from './sqlite-file.js';
import { SqliteLeases } from './sqlite-leases.js';
import { BatchingSqliteStore } from './sqlite-store.js';
import type { RunRecord } from '../report/run-report.js';

/**
 * Values up to this size live inside the entry; larger ones go to a file when the store is the
 * local SQLite one, and to keys of their own, as bytes, in a Redis or PostgreSQL store.
 */
const INLINE_LIMIT = 64 * 1024;
/** Bumped when the layout of the cache changes in a way older versions would misread. */
export const CACHE_FORMAT = 1;
/** Where a cache records the format it was written in. */
const FORMAT_KEY = 'littlepipes:format';
const OWN_VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** How many past runs the history keeps. */
export const HISTORY_LENGTH = 20;
/**
 * The largest result kept inside an entry of a Keyv adapter given as an object (which has nowhere
 * else to put it): base64 makes it a third larger, and Redis refuses values over 512 MB,
 * PostgreSQL's text over 1 GB. A store given by URL has no such limit (see LargeValues).
 */
export const STORE_VALUE_LIMIT = 256 * 1024 * 1024;
/** Keys per read: large enough that 10,000 tasks take two queries, small enough for any store's `getMany`. */
const READ_CHUNK = 5000;

export interface ResultStoreOptions {
  /** The pipeline's name: its namespace in the store. */
  pipeline: string;
  /** Folder of the default SQLite store and of large values. */
  cacheDir: string;
  /** The keys' prefix in the store; the pipeline's name by default. */
  namespace?: string;
  /** A store URL (redis://, postgresql://), a Keyv store adapter or a Keyv instance to use instead of the local SQLite file. */
  store?: string | KeyvStoreAdapter | Keyv | Map<unknown, unknown>;
  /** How results are turned into bytes and back: the pipeline's formats (built-in ones only by default). */
  codec?: Codec;
}

/**
 * The cache of one pipeline's task results, on Keyv. Entries are written behind the run, in
 * batches (one SQLite transaction per batch), so a task's dependents need not wait for the disk;
 * `flush()` makes everything written so far durable, and `execute()` awaits it before it resolves.
 */
export class ResultStore {
  /** Where the cache lives, for messages: a file path, a store's URL without its password, or "the configured Keyv store". */
  readonly location: string;
  /**
   * Coordination between processes running this pipeline on this cache: on the local SQLite
   * store and on a store given by URL; none on a Keyv adapter given as an object, which offers
   * no atomic operation to build a lease on.
   */
  readonly leases: Leases | undefined;
  /** Turns results into bytes and back, with the pipeline's formats. */
  readonly codec: Codec;
  /** Set once the store is open (at once, except for a store reached by URL: see #ready). */
  #keyv!: Keyv;
  readonly #sqlite: BatchingSqliteStore | undefined;
  /** A store given by URL, once connected. */
  #shared: SharedStore | undefined;
  /** Whether the store was given by URL: large values then live in it, under keys of their own. */
  readonly #byUrl: boolean;
  readonly #namespace: string;
  readonly #blobDir: string | undefined;
  readonly #ready: Promise<void>;
  /** Entries waiting to be written; `null` removes one. */
  #queue = new Map<string, CacheEntry | null>();
  /** The batch being written now: still what readers must see until it is committed. */
  #inFlight = new Map<string, CacheEntry | null>();
  /** Large values of entries replaced or removed, deleted once the batch that drops them commits. */
  #obsoleteBlobs: { blob: string; bytes: number }[] = [];
  /** Keys of results stored on their own (see storeValueRef) that entries written since replaced. */
  #obsoleteRefs: string[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #flushScheduled = false;
  #blobDirReady: Promise<unknown> | undefined;
  #backgroundFailure: unknown;
  /** Symbol tables by code hash: read or written by this store (see #attachSymbols). */
  readonly #symbolTables = new Map<string, Record<string, string>>();
  readonly #writtenTables = new Set<string>();
  /** The run history being written (see recordRun). */
  #recording: Promise<void> = Promise.resolve();
  /** Called when the next batch commits (see afterCommit). */
  #commitWaiters: (() => void)[] = [];

  constructor(options: ResultStoreOptions) {
    const namespace = options.namespace ?? options.pipeline;
    this.#namespace = namespace;
    this.codec = options.codec ?? new Codec();
    this.#byUrl = typeof options.store === 'string';
    const common = { namespace, serialize: JSON.stringify, deserialize: JSON.parse, throwOnErrors: true, emitErrors: false };
    if (typeof options.store === 'string') {
      const url = options.store;
      this.location = parseStoreUrl(url, `Pipeline "${options.pipeline}"`).shown;
      this.#ready = (async () => {
        await prepareHashing();
        this.#shared = await openSharedStore(url);
        this.#keyv = new Keyv({ ...common, store: this.#shared.adapter });
        await this.#checkFormat();
      })().catch(async (error: unknown) => {
        await this.#shared?.close().catch(() => {});
        throw this.#storeError('open', error);
      });
      this.leases = new Leases(this.#ready.then(() => this.#shared!.leases), namespace);
    } else if (options.store instanceof Keyv) {
      this.#keyv = options.store;
      this.#keyv.namespace = namespace;
      this.location = 'the configured Keyv store';
      this.#ready = (async () => {
        await prepareHashing();
        await this.#checkFormat();
      })();
    } else if (options.store) {
      this.#keyv = new Keyv({ ...common, store: options.store as KeyvStoreAdapter });
      this.location = 'the configured Keyv store';
      this.#ready = (async () => {
        await prepareHashing();
        await this.#checkFormat();
      })();
    } else {
      const file = path.join(options.cacheDir, 'cache.sqlite');
      try {
        // Results and logs may hold private data: only their owner may read the folder.
        fs.mkdirSync(options.cacheDir, { recursive: true, mode: 0o700 });
      } catch (error) {
        throw new CacheStoreError(`Cannot create the cache folder ${options.cacheDir}: ${(error as Error).message}. Choose another folder with the cacheDir option or LITTLEPIPES_DIR.`, { cause: error });
      }
      const damaged = setAsideIfDamaged(file);
      if (damaged) {
        process.emitWarning(`The cache file ${file} ${damaged.problem}. It was moved to ${damaged.movedTo} and a new cache was started; results will be computed again.`, { code: 'LITTLEPIPES_CACHE_RECOVERED' });
      }
      ownerOnly(options.cacheDir, file);
      this.#sqlite = new BatchingSqliteStore({ uri: `sqlite://${file}`, busyTimeout: 15_000 });
      this.#sqlite.on('error', () => {}); // Reported through the rejected query instead.
      this.#keyv = new Keyv({ ...common, store: this.#sqlite });
      this.#blobDir = path.join(options.cacheDir, 'blobs', options.pipeline);
      this.location = file;
      // WAL lets readers and one writer work at once; NORMAL syncs at checkpoints, which WAL keeps crash-safe.
      const sqlite = this.#sqlite;
      this.#ready = (async () => {
        await prepareHashing();
        // First, and before anything is written: a cache this version must refuse is left as it was.
        await this.#checkFormat();
        await sqlite.query('PRAGMA journal_mode=WAL');
        await sqlite.query('PRAGMA synchronous=NORMAL');
      })().catch((error: unknown) => {
        throw this.#storeError('open', error);
      });
      // Leases are rows in the same file: none is taken in a cache that is refused.
      this.leases = new Leases(this.#ready.then(() => new SqliteLeases(sqlite)), options.pipeline);
    }
    // Whoever uses the store awaits #ready and gets its error; until then it is not unhandled.
    this.#ready.catch(() => {});
  }

  /**
   * Refuses a cache written by a newer littlepipes, whose layout this one may misread; marks a
   * new cache with this version's format.
   */
  async #checkFormat(): Promise<void> {
    const mark = await this.#keyv.get<{ format?: unknown; version?: unknown }>(FORMAT_KEY);
    if (mark === undefined) {
      await this.#keyv.set(FORMAT_KEY, { format: CACHE_FORMAT, version: OWN_VERSION });
      return;
    }
    if (typeof mark?.format === 'number' && mark.format > CACHE_FORMAT) {
      throw new CacheStoreError(
        `${this.location} was written by a newer littlepipes (${String(mark.version)}, cache format ${mark.format}); this one (${OWN_VERSION}) reads format ${CACHE_FORMAT}. ` +
          'Upgrade littlepipes, or give this project another cache folder (cacheDir or LITTLEPIPES_DIR).',
      );
    }
  }

  /** The entries of the given tasks; tasks without a (readable) entry are absent from the map. */
  async readEntries(names: readonly string[]): Promise<Map<string, CacheEntry>> {
    await this.#ready;
    const entries = new Map<string, CacheEntry>();
    for (let start = 0; start < names.length; start += READ_CHUNK) {
      const chunk = names.slice(start, start + READ_CHUNK);
      let values: unknown[];
      try {
        values = await this.#readMany(chunk.map(entryKey));
      } catch (error) {
        throw this.#storeError('read', error);
      }
      // Entries not written yet are what readers must see; most reads (a run's first) find none.
      const pending = this.#queue.size > 0 || this.#inFlight.size > 0;
      chunk.forEach((name, index) => {
        const value = !pending ? values[index] : this.#queue.has(name) ? this.#queue.get(name) : this.#inFlight.has(name) ? this.#inFlight.get(name) : values[index];
        if (value === UNREADABLE_ROW) this.#setAside(name, 'is not JSON');
        else if (isCacheEntry(value)) {
          const damage = entryDamage(value) ?? inlineDamage(value);
          if (damage) this.#setAside(name, damage);
          else entries.set(name, value);
        }
      });
    }
    await this.#attachSymbols(entries);
    return entries;
  }

  /**
   * Removes a damaged entry (its result file, if any, is left where it is) with a warning that
   * names the task: it reads as absent, so the task runs again.
   */
  #setAside(task: string, damage: string): void {
    process.emitWarning(`The cache entry of ${task} in ${this.location} is damaged (${damage}); it was set aside, and ${task} will run again.`, { code: 'LITTLEPIPES_DAMAGED_RESULT' });
    this.remove(new Map([[task, undefined]]));
  }

  /**
   * Entries are written without their per-symbol code hashes (`definition.symbols`), which are
   * the same for every task made at the same place and were half of each entry's bytes; each
   * distinct table is stored once, under `code:<code hash>`, and put back on the entries read.
   */
  async #attachSymbols(entries: Map<string, CacheEntry>): Promise<void> {
    const missing = new Set<string>();
    for (const entry of entries.values()) {
      if (entry.definition.symbols) continue;
      const known = this.#symbolTables.get(entry.definition.code);
      if (known) entry.definition.symbols = known;
      else missing.add(entry.definition.code);
    }
    if (missing.size === 0) return;
    const codes = [...missing];
    let tables: unknown[];
    try {
      tables = await this.#readMany(codes.map(symbolsKey));
    } catch (error) {
      throw this.#storeError('read', error);
    }
    codes.forEach((code, index) => {
      const table = tables[index];
      if (typeof table === 'object' && table !== null) {
        this.#symbolTables.set(code, table as Record<string, string>);
        this.#writtenTables.add(code);
      }
    });
    for (const entry of entries.values()) {
      entry.definition.symbols ??= this.#symbolTables.get(entry.definition.code);
    }
  }

  /**
   * Reads many keys. Keyv's own getMany awaits an asynchronous deserializer for every row, about
   * 4 µs each, which is most of a cached run of 10,000 tasks; so when the adapter has `getMany`
   * (part of Keyv's adapter contract), this asks it directly, with Keyv's documented
   * `namespace:key` prefix, and unwraps Keyv's `{ value, expires }` envelope itself.
   */
  async #readMany(keys: string[]): Promise<unknown[]> {
    const adapter = this.#keyv.store as KeyvStoreAdapter;
    const namespace = this.#keyv.namespace;
    if (typeof adapter.getMany !== 'function' || !this.#keyv.useKeyPrefix || namespace === undefined) return this.#keyv.getMany(keys);
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

  /**
   * Writes many keys. Keyv's own setMany awaits an asynchronous serializer for every entry, two
   * promises each, as its getMany does (see #readMany); so when the adapter has `setMany` and
   * the serializer is this store's JSON.stringify, this hands the adapter the rows itself: Keyv's
   * `{ value }` envelope (no `expires`: entries never have a TTL) under `namespace:key`.
   */
  async #writeMany(entries: { key: string; value: unknown }[]): Promise<void> {
    const adapter = this.#keyv.store as KeyvStoreAdapter;
    const namespace = this.#keyv.namespace;
    if (typeof adapter.setMany !== 'function' || this.#keyv.serialize !== JSON.stringify || this.#keyv.compression || !this.#keyv.useKeyPrefix || namespace === undefined) {
      await this.#keyv.setMany(entries);
      return;
    }
    await adapter.setMany(entries.map(({ key, value }) => ({ key: `${namespace}:${key}`, value: JSON.stringify({ value }) })));
  }

  /**
   * Prepares a result's bytes for an entry: inline when small or when the store is not local,
   * otherwise written to its own file (atomically, by rename) while its hash is computed.
   */
  storeValue(task: string, encoded: EncodedValue): StoredResult | Promise<StoredResult> {
    const apart = this.#blobDir !== undefined || this.#byUrl;
    if (!apart && encoded.length > STORE_VALUE_LIMIT) throw new ResultTooLargeError(task, encoded.length, STORE_VALUE_LIMIT);
    if (!apart || encoded.length <= INLINE_LIMIT) {
      // Synchronous on purpose: most results are small, and a run of thousands should not pay a promise each.
      const bytes = encoded.bytes;
      return { hash: hashResult(bytes), value: { inline: bytes.toString('base64') } };
    }
    // A mapped task's items are stored as `<task>/<item hash>`: a '/' no task name has, but no file name either.
    const name = task.replaceAll('/', '~');
    return this.#blobDir ? this.#writeBlob(name, encoded, this.#blobDir) : this.#writeShared(name, encoded.bytes);
  }

  /**
   * Stores a result that is one value of a format with files of its own (a polars DataFrame) as
   * that file, written by its package straight into the cache folder (see FileFormat). Undefined
   * when the result is not such a value, or this store keeps no files: then it is encoded.
   */
  storeAsFile(task: string, result: unknown): Promise<StoredResult> | undefined {
    if (!this.#blobDir) return undefined;
    const format = this.codec.fileFormatOf(result);
    return format && this.#writeFormatFile(task.replaceAll('/', '~'), format, result, this.#blobDir);
  }

  async #writeFormatFile(task: string, format: FileFormat, value: unknown, blobDir: string) {
    this.#blobDirReady ??= fs.promises.mkdir(blobDir, { recursive: true, mode: 0o700 });
    await Promise.all([this.#blobDirReady, this.#ready]);
    const { extension } = format.file;
    const temporary = path.join(blobDir, `.${task}.${process.pid}.${Date.now()}.tmp${extension}`);
    try {
      try {
        await format.file.write(value, temporary);
      } catch (error) {
        throw encodeFailure(task, format, error);
      }
      await fs.promises.chmod(temporary, 0o600);
      const { hash, bytes } = await hashFile(temporary);
      const blob = `${task}.${hash}${extension}`;
      await fs.promises.rename(temporary, path.join(blobDir, blob));
      const stored: StoredFile = { blob, bytes, format: { name: format.name, version: format.version } };
      return { hash, value: stored, formats: { [format.name]: format.version } };
    } catch (error) {
      await fs.promises.rm(temporary, { force: true });
      if (error instanceof UncacheableResultError) throw error;
      throw this.#storeError('write a large result to', error);
    }
  }

  /**
   * A large value in a store given by URL: as bytes under a key of its own (in chunks), not as
   * base64 inside the entry, which would make it a third larger and make every read of the
   * entries (each plan) fetch it.
   */
  async #writeShared(task: string, bytes: Buffer): Promise<StoredResult> {
    await this.#ready;
    const hash = hashResult(bytes);
    const blob = `${task}.${hash}.bin`;
    try {
      await this.#shared!.values.write(this.#valueKey(blob), bytes);
    } catch (error) {
      throw this.#storeError('write a large result to', error);
    }
    return { hash, value: { blob, bytes: bytes.length } };
  }

  #valueKey(blob: string): string {
    return `${this.#namespace}:value:${blob}`;
  }

  async #writeBlob(task: string, encoded: EncodedValue, blobDir: string): Promise<StoredResult> {
    this.#blobDirReady ??= fs.promises.mkdir(blobDir, { recursive: true, mode: 0o700 });
    await this.#blobDirReady;
    const temporary = path.join(blobDir, `.${task}.${process.pid}.${Date.now()}.tmp`);
    try {
      const file = await fs.promises.open(temporary, 'w', 0o600);
      let hash: string;
      try {
        // All the pieces go to libuv in one gathered write, so the disk works while this thread
        // hashes (writeFile would write 512 KiB chunks, each started by this thread).
        const writing = writeAll(file, encoded.chunks);
        hash = hashResult(encoded.chunks);
        await writing;
      } finally {
        await file.close();
      }
      const blob = `${task}.${hash}.bin`;
      await fs.promises.rename(temporary, path.join(blobDir, blob));
      return { hash, value: { blob, bytes: encoded.length } };
    } catch (error) {
      await fs.promises.rm(temporary, { force: true });
      throw this.#storeError('write a large result to', error);
    }
  }

  /**
   * Writes a result under a key of its own, at once (not behind the run), and returns the
   * reference an entry keeps: a worker of a distributed run stores what it computed this way, and
   * the coordinator writes the entry. The key holds the content hash, so storing the same result
   * twice (a task retried after its worker died) leaves one copy.
   */
  async storeValueRef(task: string, bytes: Buffer): Promise<StoredResult> {
    await this.#ready;
    // A store given by URL keeps values as binary chunks under their own keys already, without a size limit.
    if (this.#shared) return this.#writeShared(task, bytes);
    if (bytes.length > STORE_VALUE_LIMIT) throw new ResultTooLargeError(task, bytes.length, STORE_VALUE_LIMIT);
    const hash = hashResult(bytes);
    const ref = valueKey(task, hash);
    try {
      await this.#keyv.set(ref, bytes.toString('base64'));
    } catch (error) {
      throw this.#storeError('write a result to', error);
    }
    return { hash, value: { ref, bytes: bytes.length } };
  }

  /**
   * Reads a stored result back. Bytes that do not decode (damaged, or a format's decode threw)
   * are never served: the entry is set aside (removed, its file left where it is) with a warning,
   * and a DamagedResultError says to run again. A table whose package is not installed is a
   * PeerPackageError, and its entry is kept.
   */
  async loadValue(task: string, value: StoredValue, hash?: string): Promise<unknown> {
    if ('blob' in value && value.format) return this.#loadFormatFile(task, value.blob, value.format, hash);
    const bytes = await this.loadBytes(task, value);
    try {
      // Bytes damaged on disk, or another result's file under this one's name, are never served.
      if (hash !== undefined) {
        await prepareHashing();
        if (hashResult(bytes) !== hash) throw new Error('its bytes are not the ones stored: the file was changed or damaged');
      }
      return await this.codec.decode(bytes);
    } catch (error) {
      throw this.#unreadable(task, value, error);
    }
  }

  /** A result kept as a format's own file: checked against its hash, then read by the format (see FileFormat). */
  async #loadFormatFile(task: string, blob: string, format: { name: string; version: number }, hash: string | undefined): Promise<unknown> {
    const file = path.join(this.#requireBlobDir(task), blob);
    try {
      await prepareHashing();
      const found = await hashFile(file).catch((error: unknown) => {
        throw new CacheStoreError(`Cannot read the cached result of ${task} from ${file}: ${(error as Error).message}. Clear it with pipeline.clear(['${task}']) and run again.`, { cause: error });
      });
      if (hash !== undefined && found.hash !== hash) throw new Error('its bytes are not the ones stored: the file was changed or damaged');
      return await this.codec.readFile(format.name, format.version, file);
    } catch (error) {
      if (error instanceof CacheStoreError) throw error;
      throw this.#unreadable(task, { blob, bytes: 0 }, error);
    }
  }

  /**
   * Bytes that do not decode are never served: the entry is set aside (removed, its file left
   * where it is) with a warning. A table whose package is missing keeps its entry.
   */
  #unreadable(task: string, value: StoredValue, error: unknown): Error {
    if (error instanceof PeerPackageError) return error;
    const detail = ((error as Error)?.message ?? String(error)).replace(/\.$/, '');
    const where = 'blob' in value ? ` (${path.join(this.#blobDir ?? '', value.blob)})` : '';
    process.emitWarning(`The cached result of ${task}${where} in ${this.location} cannot be read back (${detail}); it was set aside, and ${task} will run again.`, { code: 'LITTLEPIPES_DAMAGED_RESULT' });
    this.remove(new Map([[task, undefined]]));
    return new DamagedResultError(task, detail);
  }

  /** A stored result's bytes, as they were written. */
  async loadBytes(task: string, value: StoredValue): Promise<Uint8Array> {
    if ('inline' in value) return Buffer.from(value.inline, 'base64');
    if ('ref' in value) {
      await this.#ready;
      let text: unknown;
      try {
        text = await this.#keyv.get(value.ref);
      } catch (error) {
        throw this.#storeError('read a result from', error);
      }
      if (typeof text !== 'string') throw new CacheStoreError(`The cached result of ${task} (${value.ref}) is missing from ${this.location}. Clear it with pipeline.clear(['${task}']) and run again.`);
      return Buffer.from(text, 'base64');
    }
    if (this.#byUrl) return this.#readShared(task, value);
    const file = path.join(this.#requireBlobDir(task), value.blob);
    try {
      const bytes = await fs.promises.readFile(file);
      return value.format ? frameOfFile(value.format.name, value.format.version, bytes) : bytes;
    } catch (error) {
      throw new CacheStoreError(`Cannot read the cached result of ${task} from ${file}: ${(error as Error).message}. Clear it with pipeline.clear(['${task}']) and run again.`, { cause: error });
    }
  }

  async #readShared(task: string, value: { blob: string; bytes: number }): Promise<Buffer> {
    await this.#ready;
    let bytes: Buffer | undefined;
    try {
      bytes = await this.#shared!.values.read(this.#valueKey(value.blob), value.bytes);
    } catch (error) {
      throw this.#storeError(`read the result of ${task} from`, error);
    }
    if (!bytes) {
      throw new CacheStoreError(
        `The cached result of ${task} is missing from ${this.location}: another run replaced or removed it meanwhile, or the server evicted it. ` +
          `Run again; if this comes back, clear it with pipeline.clear(['${task}']) (or littlepipes clear ${task}) and run again.`,
      );
    }
    return bytes;
  }

  /** Queues an entry to be written; `previous` is the entry it replaces, whose large value file is then removed. */
  put(task: string, entry: CacheEntry, previous?: CacheEntry): void {
    this.#queue.set(task, entry);
    this.#retire(previous?.value, entry.value);
    this.#scheduleFlush();
  }

  /**
   * Removes a value that was stored but that no entry refers to: a re-run's result equal to the
   * one before, whose entry keeps the earlier bytes (see cutoffHash), so that an entry's
   * resultHash is always the hash of the bytes it refers to.
   */
  discard(value: StoredValue): void {
    this.#retire(value, undefined);
    this.#scheduleFlush();
  }

  /** Queues the removal of entries (and of their large value files). */
  remove(entries: ReadonlyMap<string, CacheEntry | undefined>): void {
    for (const [task, previous] of entries) {
      this.#queue.set(task, null);
      this.#retire(previous?.value, undefined);
    }
    this.#scheduleFlush();
  }

  /**
   * Every entry this pipeline has in the store, including those of tasks it no longer defines.
   * The local SQLite store and adapters with Keyv's `iterator` can list them; for others only
   * the `known` tasks can be looked up.
   */
  async listEntries(known: readonly string[]): Promise<Map<string, CacheEntry>> {
    await this.flush();
    await this.#ready;
    const namespace = this.#keyv.namespace;
    const prefix = `${namespace}:task:`;
    const entries = new Map<string, CacheEntry>();
    try {
      if (this.#sqlite) {
        const table = (this.#sqlite.opts as { table: string }).table;
        const rows: { key: string; value: string }[] = await this.#sqlite.query(
          `SELECT key, value FROM ${table} WHERE substr(key, 1, length(?)) = ?`, prefix, prefix);
        for (const row of rows) {
          const name = row.key.slice(prefix.length);
          // Items of mapped tasks (`<task>/<hash>`) belong to their task's entry, not the listing.
          if (name.includes('/')) continue;
          let value: unknown;
          try {
            value = (JSON.parse(row.value) as { value?: unknown }).value;
          } catch {
            this.#setAside(name, 'is not JSON');
            continue;
          }
          if (!isCacheEntry(value)) continue;
          const damage = entryDamage(value);
          if (damage) this.#setAside(name, damage);
          else entries.set(name, value);
        }
        return entries;
      }
      if (typeof this.#keyv.iterator === 'function' && typeof (this.#keyv.store as KeyvStoreAdapter).iterator === 'function') {
        for await (const [rawKey, value] of this.#keyv.iterator(undefined)) {
          const key = typeof rawKey === 'string' && rawKey.startsWith(`${namespace}:`) ? rawKey.slice(namespace!.length + 1) : rawKey;
          if (typeof key === 'string' && key.startsWith('task:') && !key.includes('/') && isCacheEntry(value)) entries.set(key.slice('task:'.length), value);
        }
        return entries;
      }
    } catch (error) {
      throw this.#storeError('list', error);
    }
    return this.readEntries(known);
  }

  /**
   * Adds a run to the history (the newest first), dropping runs beyond HISTORY_LENGTH. Written
   * behind the run, like entries: `history()`, `flush()` and `close()` wait for it.
   */
  recordRun(run: RunRecord): void {
    // Stacks stay in the task logs; the history keeps what a person reads in a list.
    const record: RunRecord = { ...run, tasks: run.tasks.map(({ error, ...task }) => (error ? { ...task, error: { message: error.message } } : task)) };
    this.#recording = this.#recording.then(() => this.#record(record)).catch((error: unknown) => {
      this.#backgroundFailure = error;
    });
  }

  async #record(record: RunRecord): Promise<void> {
    try {
      await this.#ready;
      const index = await this.#historyIndex();
      const id = `${record.startedAt}#${Math.random().toString(36).slice(2, 8)}`;
      const kept = [id, ...index].slice(0, HISTORY_LENGTH);
      const dropped = index.filter((old) => !kept.includes(old));
      await this.#keyv.set(`run:${id}`, record);
      await this.#keyv.set('runs', kept);
      if (dropped.length > 0) await this.#keyv.deleteMany(dropped.map((old) => `run:${old}`));
    } catch (error) {
      throw this.#storeError('record the run in', error);
    }
  }

  /** Past runs, the newest first. */
  async history(limit = HISTORY_LENGTH): Promise<RunRecord[]> {
    await this.#recording;
    try {
      await this.#ready;
      const index = (await this.#historyIndex()).slice(0, limit);
      const records = await this.#readMany(index.map((id) => `run:${id}`));
      // A record that cannot be read is left out of the list: the history is for reading, not for deciding.
      return records.filter((record): record is RunRecord => typeof record === 'object' && record !== null && Array.isArray((record as RunRecord).tasks));
    } catch (error) {
      throw this.#storeError('read the run history from', error);
    }
  }

  /** The ids of the runs in the history, newest first; a damaged list starts again (with a warning), so runs go on. */
  async #historyIndex(): Promise<string[]> {
    const [index] = await this.#readMany(['runs']);
    if (index === UNREADABLE_ROW) {
      process.emitWarning(`The run history in ${this.location} is damaged (not JSON); it starts again from this run.`, { code: 'LITTLEPIPES_DAMAGED_RESULT' });
      return [];
    }
    return Array.isArray(index) ? index.filter((id): id is string => typeof id === 'string') : [];
  }

  /** Removes every entry of this pipeline (`listEntries`), its large-value files and its run history. */
  async purge(known: readonly string[]): Promise<number> {
    const entries = await this.listEntries(known);
    this.remove(entries);
    await this.flush();
    const tables = [...new Set([...entries.values()].map((entry) => symbolsKey(entry.definition.code)))];
    this.#symbolTables.clear();
    this.#writtenTables.clear();
    try {
      const index = (await this.#keyv.get<string[]>('runs')) ?? [];
      await this.#keyv.deleteMany([...index.map((id) => `run:${id}`), 'runs', ...tables]);
    } catch (error) {
      throw this.#storeError('clear the run history in', error);
    }
    if (this.#blobDir) await fs.promises.rm(this.#blobDir, { recursive: true, force: true });
    return entries.size;
  }

  /**
   * Calls `callback` once everything queued so far is committed: the runner announces a task as
   * done only then, so a task announced done survives a crash that follows.
   */
  afterCommit(callback: () => void): void {
    if (this.#queue.size === 0) void this.#flushing.then(callback, () => {});
    else this.#commitWaiters.push(callback);
  }

  /** Writes everything queued so far; rejects if this or an earlier background write failed. */
  async flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#writeQueued());
    await this.#flushing;
    await this.#recording;
    if (this.#backgroundFailure !== undefined) {
      const failure = this.#backgroundFailure;
      this.#backgroundFailure = undefined;
      throw failure;
    }
  }

  /** Writes what is queued and releases the store. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      // A store given by URL that never opened has nothing to release.
      await this.#ready.catch(() => {});
      await this.#keyv?.disconnect().catch(() => {});
    }
  }

  #retire(old: StoredValue | undefined, next: StoredValue | undefined): void {
    if (old && 'blob' in old && !(next && 'blob' in next && next.blob === old.blob)) {
      this.#obsoleteBlobs.push(old);
    }
    if (old && 'ref' in old && !(next && 'ref' in next && next.ref === old.ref)) {
      this.#obsoleteRefs.push(old.ref);
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // Everything queued in this turn of the event loop goes in one transaction.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flushing = this.#flushing.then(() => this.#writeQueued()).catch((error: unknown) => {
        this.#backgroundFailure = error;
      });
    });
  }

  async #writeQueued(): Promise<void> {
    if (this.#queue.size === 0) return;
    const batch = this.#queue;
    const obsolete = this.#obsoleteBlobs;
    const waiters = this.#commitWaiters;
    this.#inFlight = batch;
    this.#queue = new Map();
    this.#obsoleteBlobs = [];
    this.#commitWaiters = [];
    const writes: { key: string; value: unknown }[] = [];
    const newTables: string[] = [];
    for (const [task, entry] of batch) {
      if (entry === null) continue;
      const { symbols, ...definition } = entry.definition;
      if (symbols && !this.#writtenTables.has(definition.code)) {
        this.#writtenTables.add(definition.code);
        newTables.push(definition.code);
        this.#symbolTables.set(definition.code, symbols);
        writes.push({ key: symbolsKey(definition.code), value: symbols });
      }
      writes.push({ key: entryKey(task), value: symbols ? { ...entry, definition } : entry });
    }
    const deletes = [...batch].filter(([, entry]) => entry === null).map(([task]) => entryKey(task));
    deletes.push(...this.#obsoleteRefs);
    const obsoleteRefs = this.#obsoleteRefs;
    this.#obsoleteRefs = [];
    try {
      await this.#ready;
      await this.#sqlite?.query('BEGIN IMMEDIATE');
      try {
        if (writes.length > 0) await this.#writeMany(writes);
        if (deletes.length > 0) await this.#keyv.deleteMany(deletes);
        await this.#sqlite?.query('COMMIT');
      } catch (error) {
        await this.#sqlite?.query('ROLLBACK').catch(() => {});
        throw error;
      }
    } catch (error) {
      // Keep what was not written, unless newer entries for the same tasks were queued meanwhile.
      for (const [task, entry] of batch) if (!this.#queue.has(task)) this.#queue.set(task, entry);
      for (const code of newTables) this.#writtenTables.delete(code);
      this.#obsoleteRefs.unshift(...obsoleteRefs);
      this.#commitWaiters.unshift(...waiters);
      throw this.#storeError('write', error);
    } finally {
      this.#inFlight = new Map();
    }
    for (const waiter of waiters) waiter();
    if (this.#blobDir) {
      await Promise.all(obsolete.map(({ blob }) => fs.promises.rm(path.join(this.#blobDir!, blob), { force: true })));
    } else if (this.#shared && obsolete.length > 0) {
      // Left behind if this fails: they take space, but nothing refers to them any more.
      await this.#shared.values.remove(obsolete.map(({ blob, bytes }) => ({ key: this.#valueKey(blob), size: bytes }))).catch(() => {});
    }
  }

  #requireBlobDir(task: string): string {
    if (!this.#blobDir) throw new CacheStoreError(`The cached result of ${task} refers to a file, but this store keeps no files. Clear it and run again.`);
    return this.#blobDir;
  }

  #storeError(action: string, error: unknown): CacheStoreError {
    if (error instanceof CacheStoreError) return error;
    const message = (error as Error)?.message ?? String(error);
    return new CacheStoreError(`Cannot ${action} the cache at ${this.location}: ${message.replace(/\.$/, '')}.${adviceFor(message)}`, { cause: error });
  }
}

/** Writes the pieces in turn, as one gathered write (writev), going on where a short write stopped. */
async function writeAll(file: fs.promises.FileHandle, pieces: readonly Uint8Array[]): Promise<void> {
  let rest = pieces.filter((piece) => piece.byteLength > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await file.writev(rest);
    let index = 0;
    while (index < rest.length && bytesWritten >= rest[index]!.byteLength) bytesWritten -= rest[index++]!.byteLength;
    rest = rest.slice(index);
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}

/**
 * Results and logs may hold private data: the cache folder is made owner-only (with a warning
 * when it was not), and the cache file is created owner-only before SQLite opens it, since SQLite
 * gives its -wal and -shm files, which hold results too, the database file's permissions.
 * Changing the mode after opening left them readable by everyone for the whole run.
 */
function ownerOnly(cacheDir: string, file: string): void {
  try {
    const mode = fs.statSync(cacheDir).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      fs.chmodSync(cacheDir, 0o700);
      process.emitWarning(`The cache folder ${cacheDir} was open to other users (mode ${mode.toString(8)}); it holds results and logs, so it was made owner-only (700).`, { code: 'LITTLEPIPES_CACHE_PERMISSIONS' });
    }
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    for (const own of [file, `${file}-wal`, `${file}-shm`]) {
      if (fs.existsSync(own) && (fs.statSync(own).mode & 0o077) !== 0) fs.chmodSync(own, 0o600);
    }
  } catch (error) {
    throw new CacheStoreError(`Cannot make the cache in ${cacheDir} owner-only: ${(error as Error).message}. Check that the folder is yours and writable, or choose another with the cacheDir option or LITTLEPIPES_DIR.`, { cause: error });
  }
}

/** Where a result was stored, its content hash, and the formats (name → version) that wrote parts of it. */
export interface StoredResult {
  hash: string;
  value: StoredValue;
  formats?: Record<string, number> | undefined;
}

/** What #readMany gives for a row that is not JSON. */
const UNREADABLE_ROW = Symbol('unreadable row');

/**
 * What is wrong with an entry's inline result: bytes that are not the ones its hash was taken of.
 * Checked when entries are read, since a cached task's value is read only when something needs
 * it, and a run would otherwise report a damaged result as cached. XXH3 of a value under 64 KiB
 * is a microsecond or so.
 */
function inlineDamage(entry: CacheEntry): string | undefined {
  const value = entry.value;
  if (!value || !('inline' in value) || entry.resultHash === undefined) return undefined;
  return hashResult(Buffer.from(value.inline, 'base64')) === entry.resultHash ? undefined : 'its result does not match its hash';
}

/** What to do about a store error, from what it says. */
function adviceFor(message: string): string {
  if (/SQLITE_FULL|ENOSPC|EFBIG|EDQUOT|disk is full|too large/i.test(message)) {
    return ' The disk is full: free some space, or move the cache to another disk with the cacheDir option or LITTLEPIPES_DIR. Results already cached are kept.';
  }
  if (/SQLITE_CORRUPT|SQLITE_NOTADB|malformed|not a database/i.test(message)) {
    return ' The cache file is damaged: delete it (or move it aside) and run again; results will be computed again.';
  }
  if (/SQLITE_CANTOPEN|EACCES|EPERM|EROFS|readonly/i.test(message)) {
    return ' Check that the cache folder is writable, or choose another with the cacheDir option or LITTLEPIPES_DIR.';
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|failed to connect|timeout|password authentication|does not exist/i.test(message)) {
    return ' Check that the server is running and reachable at that address, and the URL (host, port, database, user, password), then run again.';
  }
  if (/SQLITE_BUSY|locked/i.test(message)) {
    return ' Another process held the cache for too long; run again.';
  }
  // SQLite reports only ENOSPC as SQLITE_FULL; a quota (EDQUOT) or a file size limit (EFBIG) comes back as this.
  if (/SQLITE_IOERR|disk I\/O error/i.test(message)) {
    return ' The disk may be full or over a quota, or failing: free some space, or move the cache to another disk with the cacheDir option or LITTLEPIPES_DIR. Results already cached are kept.';
  }
  return '';
}

function entryKey(task: string): string {
  return `task:${task}`;
}

function valueKey(task: string, hash: string): string {
  return `value:${task}:${hash}`;
}

function symbolsKey(code: string): string {
  return `code:${code}`;
}
