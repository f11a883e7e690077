import type { DefinitionFingerprint } from '../fingerprint/definition.js';
import type { FileRecords } from '../fingerprint/files.js';
import type { JsonValue } from '../fingerprint/params.js';
import type { StatKey } from '../fingerprint/stat.js';
import { sessionId } from '../session.js';
import type { ExpiryPolicy } from './expiry.js';

/** Bumped when the layout of a cache entry changes; entries of another format are treated as absent. */
export const ENTRY_FORMAT = 2;

/**
 * Where a result's bytes are: inline (base64) for small values, a file beside the cache for large
 * ones, or under a key of their own in the store (`ref`): how a worker of a distributed run hands
 * a result to the coordinator without sending its bytes twice.
 */
export type StoredValue = { inline: string } | StoredFile | { ref: string; bytes: number };

/** A result in a file of its own; `format` when the file is one value as that format writes it (see FileFormat), else the result's bytes. */
export type StoredFile = {
  blob: string;
  bytes: number;
  format?: { name: string; version: number };
  /** The file's stat when it was written: while it is the same, its bytes are the ones written (see ResultFiles.unchanged). */
  stat?: Required<StatKey>;
};

/**
 * What the cache remembers about a task: the outcome of its last run, the fingerprint it ran
 * with, and, when it succeeded, where its result is. One entry per task, under `task:<name>`.
 */
export interface CacheEntry {
  format: typeof ENTRY_FORMAT;
  /** `ok` has a result; `failed` remembers a failure; `expired` keeps the hash of a result whose value was dropped. */
  state: 'ok' | 'failed' | 'expired';
  /** The task's definition fingerprint at the time it ran. */
  definition: DefinitionFingerprint;
  /** The params it ran with, to say which changed. */
  params?: Record<string, JsonValue>;
  /** The input files it read, and the output files it wrote (size, mtime and content hash of each). */
  inputs?: FileRecords;
  outputs?: FileRecords;
  /**
   * The result hash of each dependency that the result was computed from, as `[task, hash]`
   * pairs in the order of the task's dependencies. Pairs rather than an object keyed by task
   * names: every such object has keys no other has, so V8 makes a new hidden class for each one,
   * which made building, writing and parsing entries several microseconds slower per task.
   */
  upstream: [task: string, hash: string][];
  /** Content hash of the result; what dependents compare against (early cutoff). */
  resultHash?: string;
  /** When the result was stored (ms since the epoch). */
  storedAt: number;
  /** When it expires by time (ms since the epoch), if it does. */
  expiresAt?: number;
  /** The expiry policy, as text, for messages. */
  expiry: string;
  /** A result valid only inside one process (`session`) or one run (`run`), identified by `id`. */
  scope?: { kind: 'session' | 'run'; id: string };
  value?: StoredValue;
  /** The formats (name → version) that wrote parts of the result: a value written by another version is not served. */
  formats?: Record<string, number>;
  /** How long the run took, in milliseconds. */
  durationMs: number;
  /** For a mapped task: the content hash of each item it ran over, in order (each cached as `<task>/<hash>`). */
  items?: string[];
  /** The error of a failed run. */
  error?: { message: string; stack?: string };
}

/** The result hash a dependency had when the entry was computed; `index` is where it usually is (its place among the dependencies). */
export function recordedUpstream(entry: CacheEntry, dependency: string, index: number): string | undefined {
  const pair = entry.upstream[index];
  if (pair?.[0] === dependency) return pair[1];
  // The dependencies were listed in another order when it ran.
  return entry.upstream.find(([task]) => task === dependency)?.[1];
}

/** A parsed value is a cache entry of this version's format (whole or not: see entryDamage). */
export function isCacheEntry(value: unknown): value is CacheEntry {
  return typeof value === 'object' && value !== null && (value as CacheEntry).format === ENTRY_FORMAT;
}

const STATES = new Set(['ok', 'failed', 'expired']);

/**
 * What is wrong with an entry of this version's format, in a few words; undefined when it is
 * whole. A row edited by hand or cut short must not reach the code that trusts its fields (a
 * missing `definition` stopped every run with a TypeError). Checks only what is read before a
 * result is: cheap, as it runs for every entry of every plan.
 */
export function entryDamage(entry: CacheEntry): string | undefined {
  if (!STATES.has(entry.state)) return `its state is ${JSON.stringify(entry.state)}`;
  const definition = entry.definition as Partial<DefinitionFingerprint> | undefined;
  if (typeof definition !== 'object' || definition === null || typeof definition.code !== 'string' || typeof definition.options !== 'string') return 'its code fingerprint is missing';
  if (!Array.isArray(entry.upstream)) return 'its list of dependencies is missing';
  if (typeof entry.storedAt !== 'number') return 'its time of storing is missing';
  if (entry.state === 'ok') {
    if (typeof entry.resultHash !== 'string') return 'its result hash is missing';
    const value = entry.value as Partial<Record<'inline' | 'blob' | 'ref', unknown>> | undefined;
    if (typeof value !== 'object' || value === null) return 'its result is missing';
    if (typeof value.inline !== 'string' && typeof value.blob !== 'string' && typeof value.ref !== 'string') return 'its result is missing';
  }
  return undefined;
}

/** What a task's result was saved as (see ResultStore.save): its hash for dependents, where it is, and the formats that wrote it. */
export interface SavedResult {
  resultHash: string;
  value: StoredValue;
  formats?: Record<string, number> | undefined;
}

/** What every entry of a task records of how it ran. */
interface RanWith {
  definition: DefinitionFingerprint;
  params: Record<string, JsonValue> | undefined;
  upstream: CacheEntry['upstream'];
  expire: ExpiryPolicy;
  durationMs: number;
}

/**
 * The entry of a task that ran to a result. One literal, not a spread of shared fields: this
 * runs once per task. `runId` is the run's, for results valid for the run only.
 */
export function resultEntry(ran: RanWith & { saved: SavedResult; inputs?: FileRecords | undefined; outputs?: FileRecords | undefined; runId: string; items?: string[] | undefined }): CacheEntry {
  const storedAt = Date.now();
  const { expire, saved } = ran;
  return {
    format: ENTRY_FORMAT,
    state: 'ok',
    definition: ran.definition,
    params: ran.params,
    inputs: ran.inputs,
    outputs: ran.outputs,
    upstream: ran.upstream,
    resultHash: saved.resultHash,
    storedAt,
    expiresAt: expire.expiresAt(new Date(storedAt))?.getTime(),
    expiry: expire.description,
    scope: expire.scope === 'session' ? { kind: 'session', id: sessionId() } : expire.scope === 'run' ? { kind: 'run', id: ran.runId } : undefined,
    value: saved.value,
    formats: saved.formats,
    durationMs: ran.durationMs,
    ...(ran.items ? { items: ran.items } : {}),
  };
}

/** The entry of a task whose run failed: it replaces the result before, which must not be served any more. */
export function failureEntry(ran: RanWith & { error: Error }): CacheEntry {
  return {
    format: ENTRY_FORMAT,
    state: 'failed',
    definition: ran.definition,
    params: ran.params,
    upstream: ran.upstream,
    storedAt: Date.now(),
    expiry: ran.expire.description,
    durationMs: ran.durationMs,
    error: { message: ran.error.message, stack: ran.error.stack },
  };
}

/** The entry of one item of a mapped task (`<task>/<item hash>`): it has no upstream of its own. */
export function itemEntry(ran: Omit<RanWith, 'params' | 'upstream'> & { saved: SavedResult }): CacheEntry {
  const storedAt = Date.now();
  return {
    format: ENTRY_FORMAT,
    state: 'ok',
    definition: ran.definition,
    upstream: [],
    resultHash: ran.saved.resultHash,
    storedAt,
    expiresAt: ran.expire.expiresAt(new Date(storedAt))?.getTime(),
    expiry: ran.expire.description,
    value: ran.saved.value,
    formats: ran.saved.formats,
    durationMs: ran.durationMs,
  };
}
