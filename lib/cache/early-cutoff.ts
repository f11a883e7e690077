import { isDeepStrictEqual } from 'node:util';
import { type EncodedValue, canonicalBytes, encodeValue, isFramed } from './codec.js';
import type { CacheEntry, StoredValue } from './entry.js';
import type { Codec } from './codec.js';

/** What early cutoff reads earlier results with: the store's bytes, and its codec to decode plain data. */
export interface StoredBytes {
  loadBytes(task: string, value: StoredValue): Promise<Uint8Array>;
  readonly codec: Codec;
}

/**
 * Results up to this size that hash differently from the task's previous result are compared
 * with it; larger ones are taken as changed. Reading the previous one back is the cost: V8
 * deserializes an array of a million doubles (9 MB) in about 125 ms on a small machine.
 */
const COMPARE_LIMIT = 4 * 1024 * 1024;

/**
 * The hash a re-run task's result should carry for early cutoff: its previous result's hash when
 * the value is the same, else its own. Bytes are compared first through the hash. When they
 * differ, the previous value is read back and compared with the new one (node's
 * isDeepStrictEqual), which tells a changed value at its first difference, cheaply. Only a value
 * that compares equal is compared byte for byte in canonical form (see canonicalBytes), since
 * isDeepStrictEqual ignores the order of keys and of Map and Set entries, which dependents can
 * see. This catches the same value written by V8 in another form: the common case of a task that
 * passes on (part of) an upstream result read back from the cache. (An object without a
 * prototype never compares equal to its copy read back: its dependents re-run.) Synchronous when
 * there is nothing to compare.
 */
export function cutoffHash(
  store: StoredBytes,
  task: string,
  previous: CacheEntry | undefined,
  stored: { hash: string; value: StoredValue },
  /** The new result's bytes; without them (a result a worker stored) the result is read back from the store. */
  encoded: EncodedValue | undefined,
  /** The new result, when its bytes are given. */
  value: unknown,
): string | Promise<string> {
  const { hash } = stored;
  if (previous?.state !== 'ok' || !previous.value || previous.resultHash === undefined || previous.resultHash === hash) return hash;
  if ((encoded?.length ?? storedSize(stored.value)) > COMPARE_LIMIT) return hash;
  const bytes = encoded?.bytes;
  const earlier = previous.resultHash;
  const before = previous.value;
  // A frame (tables, formats' values) is compared by its bytes: formats write the same value in
  // the same bytes, and decoding a table to compare it would cost more than the comparison.
  if (bytes && isFramed(bytes)) {
    return store.loadBytes(task, before).then(
      (earlierBytes) => (isFramed(earlierBytes) && canonicalBytes(bytes).equals(canonicalBytes(earlierBytes)) ? earlier : hash),
      () => hash,
    );
  }
  if (!bytes) {
    return Promise.all([store.loadBytes(task, stored.value), store.loadBytes(task, before)]).then(
      ([nowBytes, earlierBytes]) => {
        if (isFramed(nowBytes) || isFramed(earlierBytes)) return canonicalBytes(nowBytes).equals(canonicalBytes(earlierBytes)) ? earlier : hash;
        const now = store.codec.decode(nowBytes);
        const then = store.codec.decode(earlierBytes);
        return isDeepStrictEqual(now, then) && encodeValue(now).equals(encodeValue(then)) ? earlier : hash;
      },
      () => hash,
    );
  }
  return store.loadBytes(task, before).then(
    (earlierBytes) => {
      if (isFramed(earlierBytes)) return hash;
      const then = store.codec.decode(earlierBytes);
      if (!isDeepStrictEqual(value, then)) return hash;
      // Read back, a value is in canonical form already.
      return canonicalBytes(bytes).equals(encodeValue(then)) ? earlier : hash;
    },
    // An earlier result that cannot be read any more is simply not the same.
    () => hash,
  );
}

/** The serialized size of a stored value, as far as its reference tells; 0 when it does not. */
function storedSize(value: StoredValue): number {
  return 'bytes' in value ? value.bytes : 0;
}
