import { canonicalBytes, encodeValue } from './codec.js';
import type { CacheEntry } from './entry.js';
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
  bytes: Buffer,
  hash: string,
): string | Promise<string> {
  if (previous?.state !== 'ok' || !previous.value || previous.resultHash === undefined || previous.resultHash === hash) return hash;
  if (bytes.length > COMPARE_LIMIT) return hash;
  const earlier = previous.resultHash;
  return store.loadValue(task, previous.value).then(
    (value) => (canonicalBytes(bytes).equals(encodeValue(value)) ? earlier : hash),
    // An earlier result that cannot be read any more is simply not the same.
    () => hash,
  );
}
