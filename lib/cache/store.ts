import { CacheStoreError, DamagedResultError, PeerPackageError, ResultTooLargeError, UncacheableResultError } from '../errors.js';
import { hashFile, hashResult, prepareHashing } from '../fingerprint/hash.js';
import type { RunRecord } from '../run/outcome.js';
import { type RunToRecord, packRun, unpackRun } from './run-history.js';
import { type Backend, type StoreChoice, UNREADABLE_ROW } from './backends/backend.js';
import { openBackend } from './backends/open-backend.js';
import { Codec, EncodedValue } from './codec.js';
import { type CacheEntry, type SavedResult, type StoredValue, entryDamage, isCacheEntry } from './entry.js';
import { cutoffHash } from './early-cutoff.js';
import { Leases } from './leases.js';
import { OWN_VERSION } from '../own-package.js';

/** Values up to this size live inside the entry; larger ones go apart (see LargeValues), where the backend keeps them so. */
const INLINE_LIMIT = 64 * 1024;
/** Bumped when the layout of the cache changes in a way older versions would misread. */
export const CACHE_FORMAT = 1;
/** Where a cache records the format it was written in. */
const FORMAT_KEY = 'littlepipes:format';

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
  /** The pipeline's name: its results' folder, for a store that keeps files. */
  pipeline: string;
  /** The keys' prefix in the store; the pipeline's name by default. */
  namespace?: string;
  /** Where the cache is (see chooseStore). */
  choice: StoreChoice;
  /** How results are turned into bytes and back: the pipeline's formats (built-in ones only by default). */
  codec?: Codec;
}

/** Where a result was stored, its content hash, and the formats (name → version) that wrote parts of it. */
export interface StoredResult {
  hash: string;
  value: StoredValue;
  formats?: Record<string, number> | undefined;
}

/**
 * The cache of one pipeline's task results, on a Backend (the SQLite file, a team cache by URL,
 * or a Keyv store). Entries are written behind the run, in batches (one transaction per batch
 * where the backend has them), so a task's dependents need not wait for the disk; `flush()`
 * makes everything written so far durable, and `execute()` awaits it before it resolves. What is
 * read is checked: a damaged entry or value is set aside, never served.
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
  readonly #backend: Backend;
  readonly #ready: Promise<void>;
  /** Entries waiting to be written; `null` removes one. */
  #queue = new Map<string, CacheEntry | null>();
  /** The batch being written now: still what readers must see until it is committed. */
  #inFlight = new Map<string, CacheEntry | null>();
  /** Values kept apart of entries replaced or removed, deleted once the batch that drops them commits. */
  #obsolete: StoredValue[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #flushScheduled = false;
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
    this.codec = options.codec ?? new Codec();
    this.#backend = openBackend(options.choice, namespace, options.pipeline, (backend) => this.#checkFormat(backend));
    this.location = this.#backend.location;
    this.#ready = Promise.all([prepareHashing(), this.#backend.ready]).then(
      () => {},
      (error: unknown) => {
        throw this.#storeError('open', error);
      },
    );
    // Whoever uses the store awaits #ready and gets its error; until then it is not unhandled.
    this.#ready.catch(() => {});
    const leases = this.#backend.leases;
    this.leases = leases && new Leases(this.#ready.then(() => leases), namespace);
  }

  /**
   * Refuses a cache written by a newer littlepipes, whose layout this one may misread; marks a
   * new cache with this version's format. Runs before the backend writes anything.
   */
  async #checkFormat(backend: Backend): Promise<void> {
    const [read] = await backend.readMany([FORMAT_KEY]);
    // A mark that cannot be read is written again: what is refused must be known to be newer.
    const mark = read === UNREADABLE_ROW ? undefined : (read as { format?: unknown; version?: unknown } | undefined);
    if (mark === undefined) {
      await backend.writeBatch([{ key: FORMAT_KEY, value: { format: CACHE_FORMAT, version: OWN_VERSION } }], []);
      return;
    }
    if (typeof mark?.format === 'number' && mark.format > CACHE_FORMAT) {
      throw new CacheStoreError(
        `${backend.location} was written by a newer littlepipes (${String(mark.version)}, cache format ${mark.format}); this one (${OWN_VERSION}) reads format ${CACHE_FORMAT}. ` +
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
        values = await this.#backend.readMany(chunk.map(entryKey));
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
      tables = await this.#backend.readMany(codes.map(symbolsKey));
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
   * Saves a task's result for its entry, in one call: a polars DataFrame as polars' own file, any
   * other value encoded (inline, or apart when large); then the hash its dependents compare
   * (early cutoff): the result before's when the value is the same, whose bytes the entry then
   * keeps. `computedElsewhere` is a result a worker stored already; `root` names the result in
   * messages (`result[item 3]`). Synchronous for plain data: a run of thousands of small tasks
   * should not pay a promise for each.
   */
  save(task: string, result: unknown, previous: CacheEntry | undefined, options?: { computedElsewhere?: StoredResult; root?: string }): SavedResult | Promise<SavedResult> {
    if (options?.computedElsewhere) return this.#cutoff(task, previous, options.computedElsewhere, undefined, result);
    const asFile = this.storeAsFile(task, result);
    if (asFile) return asFile.then((stored) => this.#cutoff(task, previous, stored, undefined, result));
    const encoding = this.codec.encode(result, task, options?.root);
    const store = (encoded: EncodedValue) => {
      const storing = this.storeValue(task, encoded);
      return storing instanceof Promise ? storing.then((stored) => this.#cutoff(task, previous, stored, encoded, result)) : this.#cutoff(task, previous, storing, encoded, result);
    };
    return encoding instanceof Promise ? encoding.then(store) : store(encoding);
  }

  #cutoff(task: string, previous: CacheEntry | undefined, stored: StoredResult, encoded: EncodedValue | undefined, result: unknown): SavedResult | Promise<SavedResult> {
    const saved = (resultHash: string): SavedResult => {
      // The same value as before, in other bytes: the entry keeps the earlier bytes, which its hash is of.
      const value = resultHash !== stored.hash && previous?.value ? previous.value : stored.value;
      if (value !== stored.value) this.discard(stored.value);
      return { resultHash, value, formats: encoded ? encoded.formats : stored.formats };
    };
    const cutoff = cutoffHash(this, task, previous, stored, encoded, result);
    return cutoff instanceof Promise ? cutoff.then(saved) : saved(cutoff);
  }

  /**
   * Prepares a result's bytes for an entry: inline when small or when the backend keeps nothing
   * apart, otherwise apart (a file, or keys of their own) while its hash is computed.
   */
  storeValue(task: string, encoded: EncodedValue): StoredResult | Promise<StoredResult> {
    const apart = this.#backend.values.apart;
    if (!apart && encoded.length > STORE_VALUE_LIMIT) throw new ResultTooLargeError(task, encoded.length, STORE_VALUE_LIMIT);
    if (!apart || encoded.length <= INLINE_LIMIT) {
      // Synchronous on purpose: most results are small, and a run of thousands should not pay a promise each.
      const bytes = encoded.bytes;
      return { hash: hashResult(bytes), value: { inline: bytes.toString('base64') } };
    }
    return this.#writeApart(() => this.#backend.values.write(fileName(task), encoded));
  }

  /**
   * Stores a result that is one value of a format with files of its own (a polars DataFrame) as
   * that file, written by its package straight into the cache folder (see FileFormat). Undefined
   * when the result is not such a value, or the backend keeps no files: then it is encoded.
   */
  storeAsFile(task: string, result: unknown): Promise<StoredResult> | undefined {
    const { writeFile } = this.#backend.values;
    const format = writeFile && this.codec.fileFormatOf(result);
    if (!format) return undefined;
    return this.#writeApart(async () => ({ ...(await writeFile.call(this.#backend.values, fileName(task), format, result)), formats: { [format.name]: format.version } }));
  }

  /**
   * Writes a result apart at once (not behind the run), and returns the reference an entry
   * keeps: a worker of a distributed run stores what it computed this way, and the coordinator
   * writes the entry. The name holds the content hash, so storing the same result twice (a task
   * retried after its worker died) leaves one copy.
   */
  async storeValueRef(task: string, bytes: Buffer): Promise<StoredResult> {
    if (!this.#backend.values.apart && bytes.length > STORE_VALUE_LIMIT) throw new ResultTooLargeError(task, bytes.length, STORE_VALUE_LIMIT);
    return this.#writeApart(() => this.#backend.values.write(fileName(task), new EncodedValue([bytes])));
  }

  async #writeApart(write: () => Promise<StoredResult>): Promise<StoredResult> {
    await this.#ready;
    try {
      return await write();
    } catch (error) {
      if (error instanceof UncacheableResultError) throw error;
      throw this.#storeError('write a large result to', error);
    }
  }

  /**
   * Reads a stored result back, checked against its hash when one is given: bytes damaged on
   * disk, or another result's file under this one's name, are never served. Bytes that do not
   * decode (damaged, or a format's decode threw) set the entry aside (removed, its file left where
   * it is) with a warning, and a DamagedResultError says to run again. A table whose package is
   * not installed is a PeerPackageError, and its entry is kept.
   */
  async loadValue(task: string, value: StoredValue, hash?: string): Promise<unknown> {
    const trusted = hash === undefined || (await this.#unchanged(task, value, hash));
    const file = this.#backend.values.fileOf?.(value);
    if (file !== undefined && 'blob' in value && value.format) return this.#loadFormatFile(task, file, value, value.format, trusted ? undefined : hash);
    const bytes = await this.loadBytes(task, value);
    try {
      if (!trusted && hashResult(bytes) !== hash) throw new Error(DAMAGED);
      return await this.codec.decode(bytes);
    } catch (error) {
      throw this.#unreadable(task, value, error);
    }
  }

  /**
   * Whether a value's bytes are known to be the ones `hash` was taken of without hashing them: a
   * result file whose name holds that hash and whose stat is as written (see ResultFiles.unchanged).
   * A name with another hash is another result's file: damaged.
   */
  async #unchanged(task: string, value: StoredValue, hash: string): Promise<boolean> {
    if (!('blob' in value) || !this.#backend.values.unchanged) return false;
    const named = /\.([0-9a-f]{32})\.[a-z]+$/.exec(value.blob)?.[1];
    if (named !== undefined && named !== hash) throw this.#unreadable(task, value, new Error(DAMAGED));
    return named === hash && (await this.#backend.values.unchanged(value));
  }

  /** A result kept as a format's own file: checked against its hash, then read by the format (see FileFormat). */
  async #loadFormatFile(task: string, file: string, value: StoredValue, format: { name: string; version: number }, hash: string | undefined): Promise<unknown> {
    await this.#ready;
    const found = hash === undefined ? undefined : await hashFile(file).catch((error: unknown) => {
      throw new CacheStoreError(`Cannot read the cached result of ${task} from ${file}: ${(error as Error).message}. Clear it with pipeline.clear(['${task}']) and run again.`, { cause: error });
    });
    try {
      if (found && found.hash !== hash) throw new Error(DAMAGED);
      return await this.codec.readFile(format.name, format.version, file);
    } catch (error) {
      throw this.#unreadable(task, value, error);
    }
  }

  /** The error for a value that cannot be served; the entry is set aside unless only a package is missing. */
  #unreadable(task: string, value: StoredValue, error: unknown): Error {
    if (error instanceof PeerPackageError) return error;
    const detail = ((error as Error)?.message ?? String(error)).replace(/\.$/, '');
    const file = this.#backend.values.fileOf?.(value);
    const where = file ? ` (${file})` : '';
    process.emitWarning(`The cached result of ${task}${where} in ${this.location} cannot be read back (${detail}); it was set aside, and ${task} will run again.`, { code: 'LITTLEPIPES_DAMAGED_RESULT' });
    this.remove(new Map([[task, undefined]]));
    return new DamagedResultError(task, detail);
  }

  /** A stored result's bytes, as they were written (a format's own file as the frame it stands for). */
  async loadBytes(task: string, value: StoredValue): Promise<Uint8Array> {
    if ('inline' in value) return Buffer.from(value.inline, 'base64');
    await this.#ready;
    try {
      return await this.#backend.values.read(task, value);
    } catch (error) {
      throw this.#storeError(`read the result of ${task} from`, error);
    }
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
   * Every entry this pipeline has in the store, including those of tasks it no longer defines,
   * where the backend can list; else only the `known` tasks are looked up.
   */
  async listEntries(known: readonly string[]): Promise<Map<string, CacheEntry>> {
    await this.flush();
    await this.#ready;
    let rows: [string, unknown][] | undefined;
    try {
      rows = await this.#backend.list('task:');
    } catch (error) {
      throw this.#storeError('list', error);
    }
    if (!rows) return this.readEntries(known);
    const entries = new Map<string, CacheEntry>();
    for (const [key, value] of rows) {
      const name = key.slice('task:'.length);
      // Items of mapped tasks (`<task>/<hash>`) belong to their task's entry, not the listing.
      if (name.includes('/')) continue;
      if (value === UNREADABLE_ROW) this.#setAside(name, 'is not JSON');
      else if (isCacheEntry(value)) {
        const damage = entryDamage(value);
        if (damage) this.#setAside(name, damage);
        else entries.set(name, value);
      }
    }
    return entries;
  }

  /**
   * Adds a run to the history (the newest first), dropping runs beyond HISTORY_LENGTH. Written
   * behind the run, like entries: `history()`, `flush()` and `close()` wait for it.
   */
  recordRun(run: RunToRecord): void {
    const record = packRun(run);
    this.#recording = this.#recording.then(() => this.#record(record)).catch((error: unknown) => {
      this.#backgroundFailure = error;
    });
  }

  async #record(record: ReturnType<typeof packRun>): Promise<void> {
    try {
      await this.#ready;
      const index = await this.#historyIndex();
      const id = `${record.startedAt}#${Math.random().toString(36).slice(2, 8)}`;
      const kept = [id, ...index].slice(0, HISTORY_LENGTH);
      const dropped = index.filter((old) => !kept.includes(old));
      await this.#backend.writeBatch([{ key: `run:${id}`, value: record }, { key: 'runs', value: kept }], dropped.map((old) => `run:${old}`));
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
      const records = await this.#backend.readMany(index.map((id) => `run:${id}`));
      // A record that cannot be read is left out of the list: the history is for reading, not for deciding.
      return records.flatMap((record) => unpackRun(record) ?? []);
    } catch (error) {
      throw this.#storeError('read the run history from', error);
    }
  }

  /** The ids of the runs in the history, newest first; a damaged list starts again (with a warning), so runs go on. */
  async #historyIndex(): Promise<string[]> {
    const [index] = await this.#backend.readMany(['runs']);
    if (index === UNREADABLE_ROW) {
      process.emitWarning(`The run history in ${this.location} is damaged (not JSON); it starts again from this run.`, { code: 'LITTLEPIPES_DAMAGED_RESULT' });
      return [];
    }
    return Array.isArray(index) ? index.filter((id): id is string => typeof id === 'string') : [];
  }

  /** Removes every entry of this pipeline (`listEntries`), the values kept apart and its run history. */
  async purge(known: readonly string[]): Promise<number> {
    const entries = await this.listEntries(known);
    this.remove(entries);
    await this.flush();
    const tables = [...new Set([...entries.values()].map((entry) => symbolsKey(entry.definition.code)))];
    this.#symbolTables.clear();
    this.#writtenTables.clear();
    try {
      const index = await this.#historyIndex();
      await this.#backend.writeBatch([], [...index.map((id) => `run:${id}`), 'runs', ...tables]);
      await this.#backend.values.clear();
    } catch (error) {
      throw this.#storeError('clear the run history in', error);
    }
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
      await this.#backend.close().catch(() => {});
    }
  }

  #retire(old: StoredValue | undefined, next: StoredValue | undefined): void {
    if (!old || 'inline' in old) return;
    const same = next && (('blob' in old && 'blob' in next && next.blob === old.blob) || ('ref' in old && 'ref' in next && next.ref === old.ref));
    if (!same) this.#obsolete.push(old);
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
    const obsolete = this.#obsolete;
    const waiters = this.#commitWaiters;
    this.#inFlight = batch;
    this.#queue = new Map();
    this.#obsolete = [];
    this.#commitWaiters = [];
    const writes: { key: string; value: unknown }[] = [];
    const newTables: string[] = [];
    const deletes: string[] = [];
    for (const [task, entry] of batch) {
      if (entry === null) {
        deletes.push(entryKey(task));
        continue;
      }
      const { symbols, ...definition } = entry.definition;
      if (symbols && !this.#writtenTables.has(definition.code)) {
        this.#writtenTables.add(definition.code);
        newTables.push(definition.code);
        this.#symbolTables.set(definition.code, symbols);
        writes.push({ key: symbolsKey(definition.code), value: symbols });
      }
      writes.push({ key: entryKey(task), value: symbols ? { ...entry, definition } : entry });
    }
    try {
      await this.#ready;
      await this.#backend.writeBatch(writes, deletes);
    } catch (error) {
      // Keep what was not written, unless newer entries for the same tasks were queued meanwhile.
      for (const [task, entry] of batch) if (!this.#queue.has(task)) this.#queue.set(task, entry);
      for (const code of newTables) this.#writtenTables.delete(code);
      this.#obsolete.unshift(...obsolete);
      this.#commitWaiters.unshift(...waiters);
      throw this.#storeError('write', error);
    } finally {
      this.#inFlight = new Map();
    }
    for (const waiter of waiters) waiter();
    // Left behind if this fails: they take space, but nothing refers to them any more.
    if (obsolete.length > 0) await this.#backend.values.remove(obsolete).catch(() => {});
  }

  #storeError(action: string, error: unknown): CacheStoreError {
    if (error instanceof CacheStoreError) return error;
    const message = (error as Error)?.message ?? String(error);
    return new CacheStoreError(`Cannot ${action} the cache at ${this.location}: ${message.replace(/\.$/, '')}.${adviceFor(message)}`, { cause: error });
  }
}

/** Why a value whose bytes do not match its hash is not served. */
const DAMAGED = 'its bytes are not the ones stored: the file was changed or damaged';

/** A result's name apart from its entry: a mapped task's items are `<task>/<item hash>`, a '/' no file name can have. */
function fileName(task: string): string {
  return task.replaceAll('/', '~');
}

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

function symbolsKey(code: string): string {
  return `code:${code}`;
}
