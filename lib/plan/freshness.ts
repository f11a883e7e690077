import { type CacheEntry, recordedUpstream } from '../cache/entry.js';
import { type FileChange, type FileRecords, type OutputResources, existingOutputs, expandInputs, fileChanges, recordFiles, recordTables } from '../fingerprint/files.js';
import { type ParamChange, paramChanges } from '../fingerprint/params.js';
import { PACKAGE_SYMBOL } from '../fingerprint/code.js';
import { currentCodeAnalysis, definitionFingerprint } from '../fingerprint/definition.js';
import type { Codec } from '../cache/codec.js';
import type { AnyTask } from '../task.js';
import { sessionId } from '../session.js';

/** A task's input and output files as they are now. */
export interface CurrentFiles {
  inputs: FileRecords;
  outputs: FileRecords;
  /** Declared outputs that do not exist. */
  missingOutputs: string[];
}

/**
 * The input and output files of a task as they are now, reading only files whose stat (see StatKey)
 * changed since its entry recorded them; undefined when it declares none. An input that is
 * missing is an InputFileError. Its output tables are hashed on the connections `resources` give
 * (a run's); without them they are taken as recorded (see recordTables).
 */
export async function currentFiles(task: AnyTask, entry: CacheEntry | undefined, resources?: OutputResources): Promise<CurrentFiles | undefined> {
  if (task.inputs.length === 0 && task.outputs.length === 0) return undefined;
  const inputs = await recordFiles(expandInputs(task.name, task.inputs, task.allowEmptyInputs), entry?.inputs);
  const { files, missing } = existingOutputs(task.outputs);
  const tables = await recordTables(task.name, task.outputs, entry?.outputs, resources);
  return { inputs, outputs: { ...(await recordFiles(files, entry?.outputs)), ...tables.records }, missingOutputs: [...missing, ...tables.missing] };
}

/** Why the files of a cached result no longer match: an input changed, an output is missing or was modified. */
function fileStaleness(entry: CacheEntry, files: CurrentFiles | undefined): StaleReason | undefined {
  if (!files) return undefined;
  const inputChanges = fileChanges(entry.inputs, files.inputs);
  if (inputChanges.length > 0) return { kind: 'input changed', files: inputChanges };
  if (files.missingOutputs.length > 0) return { kind: 'output missing', path: files.missingOutputs[0]! };
  const outputChanges = fileChanges(entry.outputs, files.outputs);
  if (outputChanges.length > 0) return { kind: 'output modified', files: outputChanges };
  return undefined;
}

/** One piece of code that changed since the cached result was computed. */
export interface CodeChange {
  /** `process run`, `lib/helpers.ts#clean` for a helper, class or constant, `package leven` for a package. */
  symbol: string;
  /** Where it is now, `file:line` (absent when it was removed). */
  location?: string;
  /** Its hash (a package's version) then and now (absent when it was added or removed). */
  before?: string;
  after?: string;
}

/** Why a task runs (or why its result cannot be served). */
export type StaleReason =
  | { kind: 'forced' }
  | { kind: 'never ran' }
  | { kind: 'failed last run'; message: string }
  | { kind: 'expired'; detail: string }
  | { kind: 'code changed'; changes: CodeChange[]; notes: string[] }
  /** Its dependencies are not those its result was computed from: which were added, which removed. */
  | { kind: 'dependencies changed'; added: string[]; removed: string[] }
  | { kind: 'params changed'; changes: ParamChange[] }
  | { kind: 'input changed'; files: FileChange[] }
  | { kind: 'output missing'; path: string }
  /** Only in plans: an input cannot be found, so the run will fail this task. */
  | { kind: 'input missing'; message: string }
  | { kind: 'output modified'; files: FileChange[] }
  | { kind: 'upstream changed'; task: string }
  /** The result was written by a format the pipeline no longer has, or by another version of it. */
  | { kind: 'format changed'; format: string; before: number; after?: number };

/** The reason as a short phrase for reports and messages. */
export function describeReason(reason: StaleReason): string {
  switch (reason.kind) {
    // Not "never ran": beside "ran" that reads as a contradiction, and a cleared cache is not a first run.
    case 'never ran':
      return 'not cached';
    case 'failed last run':
      return `failed last run (${reason.message})`;
    case 'expired':
      return `expired: ${reason.detail}`;
    case 'upstream changed':
      return `upstream ${reason.task} changed`;
    case 'format changed':
      return reason.after === undefined
        ? `format changed: its result was written by the format ${reason.format} (version ${reason.before}), which the pipeline no longer has`
        : `format changed: ${reason.format} version ${reason.before} → ${reason.after}`;
    case 'code changed':
      return reason.changes.length === 0 ? 'code changed' : `code changed: ${reason.changes.map((change) => packageChange(change) ?? change.symbol).join(', ')}`;
    case 'input changed':
    case 'output modified':
      return `${reason.kind}: ${reason.files.map((file) => `${file.path} (${file.change})`).join(', ')}`;
    case 'output missing':
      return `output missing: ${reason.path}`;
    case 'input missing':
      return `input missing (${reason.message})`;
    case 'dependencies changed': {
      const changes = [...reason.added.map((name) => `${name} added`), ...reason.removed.map((name) => `${name} removed`)];
      return changes.length === 0 ? reason.kind : `${reason.kind}: ${changes.join(', ')}`;
    }
    case 'params changed':
      return `params changed: ${reason.changes.map(({ key, before, after }) => `${key} ${show(before)} → ${show(after)}`).join(', ')}`;
    default:
      return reason.kind;
  }
}

/** A package the code uses that changed, as a person reads it (`package leven 1.0.0 → 1.0.1`); undefined for other code. */
export function packageChange(change: CodeChange): string | undefined {
  if (!change.symbol.startsWith(PACKAGE_SYMBOL)) return undefined;
  return `${change.symbol} ${change.before ?? '(none)'} → ${change.after ?? '(none)'}`;
}

/**
 * Why a skipped task's cached result cannot serve its dependents: `it has no cached result`, or
 * `its cached result cannot be used: ` and `describe(reasons)`.
 */
export function unusableCachedResult(reasons: readonly StaleReason[], describe = (all: readonly StaleReason[]) => all.map(describeReason).join('; ')): string {
  return reasons[0]?.kind === 'never ran' ? 'it has no cached result' : `its cached result cannot be used: ${describe(reasons)}`;
}

/** What a cached result is judged against. */
export interface FreshnessContext {
  now: number;
  /** The current run, whose `onComplete` results are still valid. */
  runId?: string | undefined;
  /** The pipeline's codec: a result written by another version of a format is stale. */
  codec?: Codec | undefined;
  /** The task's input and output files now (see `currentFiles`), when it declares any. */
  files?: CurrentFiles | undefined;
  /**
   * The result hash each dependency has now (a run), is expected to have (a plan) or has in the
   * cache (getResult); without it (a mapped task's item, which has no upstream of its own) the
   * upstream is not compared.
   */
  upstreamHash?: ((dependency: string) => string | undefined) | undefined;
}

/**
 * The one rule for whether a task's cached result can be served, used by the plan, the run,
 * getResult and mapped items alike: its own entry (absent, failed, expired, code, dependencies,
 * params or formats changed), then its files, then its dependencies' results. Undefined when it
 * can be served.
 */
export function staleness(task: AnyTask, entry: CacheEntry | undefined, context: FreshnessContext): StaleReason | undefined {
  return entryStaleness(task, entry, context.now, context.runId, context.codec) ??
    fileStaleness(entry!, context.files) ??
    (context.upstreamHash ? upstreamChange(task, entry!, context.upstreamHash) : undefined);
}

/** What happens to a task whose dependencies all have a result. */
export type Decision =
  | { action: 'run'; reason: StaleReason }
  | { action: 'cached' }
  /** Skipped by request; its cached result serves its dependents only when `reason` is absent. */
  | { action: 'skipped'; reason?: StaleReason };

/**
 * What happens to a task: forced, else what `staleness` says. A task named in `skip` never runs,
 * and skipping wins over forcing (with everything forced, a skipped task's result serves when it
 * is fresh on its own account). Made by the plan; the runner asks again only what the plan could
 * not know (see Run#decide).
 */
export function decide(
  task: AnyTask,
  entry: CacheEntry | undefined,
  options: FreshnessContext & { forced: boolean; skipped: boolean; upstreamHash: (dependency: string) => string | undefined },
): Decision {
  const reason: StaleReason | undefined = options.forced && !options.skipped ? { kind: 'forced' } : staleness(task, entry, options);
  if (options.skipped) return reason ? { action: 'skipped', reason } : { action: 'skipped' };
  return reason ? { action: 'run', reason } : { action: 'cached' };
}

/**
 * Why a task's own cache entry cannot be served, leaving its upstream aside; undefined when it
 * can. `runId` is the current run, whose `onComplete` results are still valid.
 */
function entryStaleness(task: AnyTask, entry: CacheEntry | undefined, now: number, runId?: string, codec?: Codec): StaleReason | undefined {
  if (!entry) return { kind: 'never ran' };
  if (entry.state === 'failed') return { kind: 'failed last run', message: entry.error?.message ?? 'unknown error' };
  if (entry.state === 'expired') return { kind: 'expired', detail: entry.expiry };
  if (entry.scope?.kind === 'session' && entry.scope.id !== sessionId()) {
    return { kind: 'expired', detail: 'stored by another session (expire.session())' };
  }
  if (entry.scope?.kind === 'run' && entry.scope.id !== runId) {
    return { kind: 'expired', detail: 'stored by a run that has completed (expire.onComplete())' };
  }
  if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
    return { kind: 'expired', detail: `${entry.expiry}, at ${new Date(entry.expiresAt).toLocaleString()}` };
  }
  const current = definitionFingerprint(task);
  if (entry.definition.code !== current.code) {
    return { kind: 'code changed', changes: codeChanges(entry.definition.symbols, current.symbols), notes: currentCodeAnalysis().fingerprint(task).notes };
  }
  if (entry.definition.options !== current.options) {
    const before = new Set(entry.upstream.map(([name]) => name));
    const after = new Set(task.dependencies);
    return { kind: 'dependencies changed', added: [...after].filter((name) => !before.has(name)), removed: [...before].filter((name) => !after.has(name)) };
  }
  if (entry.definition.params !== current.params) return { kind: 'params changed', changes: paramChanges(entry.params, task.params) };
  return codec && entry.formats ? formatChange(entry.formats, codec) : undefined;
}

/** The first format a result was written with that the codec has no more, or has in another version. */
export function formatChange(formats: Record<string, number>, codec: Codec): StaleReason | undefined {
  for (const [format, before] of Object.entries(formats)) {
    const after = codec.versionOf(format);
    if (after !== before) return after === undefined ? { kind: 'format changed', format, before } : { kind: 'format changed', format, before, after };
  }
  return undefined;
}

/**
 * The first dependency whose current result differs from the one the entry was computed from.
 * `currentHash` gives a dependency's result hash now (undefined when it has none).
 */
function upstreamChange(task: AnyTask, entry: CacheEntry, currentHash: (dependency: string) => string | undefined): StaleReason | undefined {
  const { dependencies } = task;
  for (let index = 0; index < dependencies.length; index++) {
    const dependency = dependencies[index]!;
    if (currentHash(dependency) !== recordedUpstream(entry, dependency, index)) return { kind: 'upstream changed', task: dependency };
  }
  return undefined;
}

/** Which symbols differ between the code a result was computed with and the code now. */
function codeChanges(before: Record<string, string> = {}, after: Record<string, string> = {}): CodeChange[] {
  // The current fingerprint of the task was just taken, which recorded where its symbols are.
  const analysis = currentCodeAnalysis();
  const changes: CodeChange[] = [];
  for (const symbol of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[symbol] === after[symbol]) continue;
    const change: CodeChange = { symbol };
    const location = analysis.locationOf(symbol);
    if (location) change.location = location;
    if (before[symbol]) change.before = before[symbol];
    if (after[symbol]) change.after = after[symbol];
    changes.push(change);
  }
  return changes;
}

/** A param value in a message: JSON, or "(none)" when the key was added or removed. */
function show(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value);
}
