import { canonicalBytes, encodeValue } from './codec.js';
import type { CacheEntry, StoredValue } from './entry.js';
import type { ResultStore } from './store.js';

/**
 * Results up to this size that hash differently from the task's previous result are compared
 * with it in canonical form; larger ones are taken as changed, since reading and rewriting both
 * would cost more than most re-runs of their dependents save.
 */
const COMPARE_LIMIT = 16 * 1024 * 1024;

/**
 * The hash a re-run task's result should carry for early cutoff: its previous result's hash when
 * the value is the same, else its own. Bytes are compared first through the hash; only when they
 * differ is the value compared in canonical form (see canonicalBytes), which catches the same
 * value written by V8 in another form, the common case of a task that passes on (part of) an
 * upstream result read back from the cache. Synchronous when there is nothing to compare.
 */
export function cutoffHash(
  store: ResultStore,
  task: string,
  previous: CacheEntry | undefined,
  stored: { hash: string; value: StoredValue },
  /** The new result's bytes; without them (a result a worker stored) it is read back from the store. */
  bytes: Buffer | undefined,
): string | Promise<string> {
  const { hash } = stored;
  if (previous?.state !== 'ok' || !previous.value || previous.resultHash === undefined || previous.resultHash === hash) return hash;
  if ((bytes?.length ?? storedSize(stored.value)) > COMPARE_LIMIT) return hash;
  const earlier = previous.resultHash;
  // Read back, a value is in canonical form already.
  const current = bytes ? Promise.resolve(canonicalBytes(bytes)) : store.loadValue(task, stored.value).then(encodeValue);
  return Promise.all([current, store.loadValue(task, previous.value)]).then(
    ([now, before]) => (now.equals(encodeValue(before)) ? earlier : hash),
    // An earlier result that cannot be read any more is simply not the same.
    () => hash,
  );
}

/** The serialized size of a stored value, as far as its reference tells; 0 when it does not. */
function storedSize(value: StoredValue): number {
  return 'bytes' in value ? value.bytes : 0;
}
