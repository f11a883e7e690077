import type { ResultStore } from '../cache/store.js';
import { NoFreshResultError } from '../errors.js';
import type { AnyTask } from '../task.js';
import { type StaleReason, currentFiles, describeReason, staleness } from './freshness.js';

/**
 * The cached result of `task` when the one freshness rule serves it, judged on the cache as it is
 * (`getResult` runs nothing); else a NoFreshResultError that says why. `runId` is the run this
 * process has going, whose own entries are fresh.
 */
export async function freshResult(task: AnyTask, store: ResultStore, runId: string | undefined): Promise<unknown> {
  const entries = await store.readEntries([task.name, ...task.dependencies]);
  const entry = entries.get(task.name);
  const judged = { now: Date.now(), runId, codec: store.codec };
  // Its files are looked at only when its own entry can be served: a missing input of a stale task is not the news.
  const stale = staleness(task, entry, judged) ?? staleness(task, entry, {
    ...judged,
    files: await currentFiles(task, entry),
    // As the cache holds them: nothing runs.
    upstreamHash: (dependency) => {
      const upstream = entries.get(dependency);
      return upstream?.state === 'failed' ? undefined : upstream?.resultHash;
    },
  });
  if (stale) throw noFreshResult(task.name, stale);
  return store.loadValue(task.name, entry!.value!, entry!.resultHash);
}

function noFreshResult(name: string, stale: StaleReason): NoFreshResultError {
  switch (stale.kind) {
    case 'never ran':
      return new NoFreshResultError(name, 'never ran', 'it has never run');
    case 'failed last run':
      return new NoFreshResultError(name, 'failed last run', `its last run failed (${stale.message})`);
    case 'expired':
      return new NoFreshResultError(name, 'expired', `its result expired (${stale.detail})`);
    case 'upstream changed':
      return new NoFreshResultError(name, 'out of date', `the result of its dependency ${stale.task} changed since it ran`);
    default:
      return new NoFreshResultError(name, 'out of date', `its ${describeReason(stale)} since it ran`);
  }
}
