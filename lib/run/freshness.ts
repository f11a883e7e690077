import type { CacheEntry } from '../cache/entry.js';
import { definitionFingerprint } from '../fingerprint/definition.js';
import type { AnyTask } from '../task.js';
import { SESSION_ID } from './session.js';

/** Why a task runs (or why its result cannot be served). */
export type StaleReason =
  | { kind: 'forced' }
  | { kind: 'never ran' }
  | { kind: 'failed last run'; message: string }
  | { kind: 'expired'; detail: string }
  | { kind: 'code changed' }
  | { kind: 'dependencies changed' }
  | { kind: 'upstream changed'; task: string };

/** The reason as a short phrase for reports and messages. */
export function describeReason(reason: StaleReason): string {
  switch (reason.kind) {
    case 'failed last run':
      return `failed last run (${reason.message})`;
    case 'expired':
      return `expired: ${reason.detail}`;
    case 'upstream changed':
      return `upstream ${reason.task} changed`;
    default:
      return reason.kind;
  }
}

/**
 * Why a task's own cache entry cannot be served, leaving its upstream aside; undefined when it
 * can. `runId` is the current run, whose `onComplete` results are still valid.
 */
export function entryStaleness(task: AnyTask, entry: CacheEntry | undefined, now: number, runId?: string): StaleReason | undefined {
  if (!entry) return { kind: 'never ran' };
  if (entry.state === 'failed') return { kind: 'failed last run', message: entry.error?.message ?? 'unknown error' };
  if (entry.state === 'expired') return { kind: 'expired', detail: entry.expiry };
  if (entry.scope?.kind === 'session' && entry.scope.id !== SESSION_ID) {
    return { kind: 'expired', detail: 'stored by another session (expire.session())' };
  }
  if (entry.scope?.kind === 'run' && entry.scope.id !== runId) {
    return { kind: 'expired', detail: 'stored by a run that has completed (expire.onComplete())' };
  }
  if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
    return { kind: 'expired', detail: `${entry.expiry}, at ${new Date(entry.expiresAt).toLocaleString()}` };
  }
  const current = definitionFingerprint(task);
  if (entry.definition.code !== current.code) return { kind: 'code changed' };
  if (entry.definition.options !== current.options) return { kind: 'dependencies changed' };
  return undefined;
}

/**
 * The first dependency whose current result differs from the one the entry was computed from.
 * `currentHash` gives a dependency's result hash now (undefined when it has none).
 */
export function upstreamChange(task: AnyTask, entry: CacheEntry, currentHash: (dependency: string) => string | undefined): StaleReason | undefined {
  for (const dependency of task.dependencies) {
    if (currentHash(dependency) !== entry.upstream[dependency]) return { kind: 'upstream changed', task: dependency };
  }
  return undefined;
}
