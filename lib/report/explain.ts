import { describeReason, packageChange, unusableCachedResult } from '../plan/freshness.js';
import type { Plan, PlanReason, TaskPlan } from '../plan/plan.js';

/** What explaining a task needs besides its plan. */
export interface ExplainContext {
  /** A task's dependencies, to trace what blocks it. */
  dependencies(name: string): readonly string[];
  /** The tasks named in `skip` (the other skipped tasks were not selected by `only`). */
  skip: ReadonlySet<string>;
}

/**
 * One task's plan as a sentence for a person:
 * `TaskThree will run: expired (when the run completes)`, `Sum is cached`,
 * `Report waits on Clean, which will run (code changed); it re-runs only if Clean's result changes`;
 * then what the plan warns of in its code, each as `. Warning: ...`.
 */
export function explainTask(plan: Plan, name: string, context: ExplainContext): string {
  const warnings = plan.task(name)!.warnings ?? [];
  const sentences = [planSentence(plan, name, context), ...warnings.map((warning) => `Warning: ${warning}`)];
  // A warning that ends in a full stop is not followed by another.
  return sentences.map((sentence, index) => (index < sentences.length - 1 ? sentence.replace(/\.$/, '') : sentence)).join('. ');
}

function planSentence(plan: Plan, name: string, context: ExplainContext): string {
  const task = plan.task(name)!;
  switch (task.action) {
    case 'run':
      return `${name} will run: ${reasonsText(task.reasons)}`;
    case 'cached':
      return `${name} is cached`;
    case 'wait': {
      const upstream = task.waitsOn!;
      const skipped = upstream.filter((dependency) => plan.task(dependency)!.action === 'skipped');
      // `on A, which will run (code changed), on B, which ..., and on C, which ...`
      const waited = upstream.map((dependency, index) =>
        `${index === 0 ? '' : index === upstream.length - 1 ? ', and ' : ', '}on ${dependency}, which ${outlookText(plan.task(dependency)!)}`);
      return `${name} waits ${waited.join('')}; it re-runs only if ${resultOf(upstream)} changes` +
        (skipped.length > 0 ? `, and is blocked if ${joinWith('or', skipped)} cannot use its cached result` : '');
    }
    case 'blocked': {
      const cause = blockingTask(plan, name, context);
      return cause
        ? `${name} is blocked: ${cause.name} is skipped and has no fresh result (${reasonsText(cause.reasons, true)})`
        : `${name} is blocked: a task it needs has no result`;
    }
    case 'skipped':
      if (!context.skip.has(name)) return `${name} is skipped: it is not selected by \`only\``;
      if (task.reasons.length > 0) return `${name} is skipped, and ${unusableCachedResult(task.reasons, reasonsText)}`;
      if (task.waitsOn) return `${name} is skipped; its cached result is used only if ${resultOf(task.waitsOn)} does not change`;
      return `${name} is skipped; its cached result is used`;
  }
}

/**
 * A reason as a person would say it. Inside parentheses (`which will run (...)`), details follow
 * a colon rather than nesting another pair.
 */
function reasonText(reason: PlanReason, parenthesised: boolean): string {
  const detail = (text: string) => (parenthesised ? `: ${text}` : ` (${text})`);
  switch (reason.kind) {
    case 'failed last run':
      return `failed last run${detail(reason.message)}`;
    case 'expired':
      return `expired${detail(reason.detail)}`;
    case 'upstream changed':
      return `${reason.task}'s result changed`;
    case 'code changed': {
      if (parenthesised || reason.changes.length === 0) return describeReason(reason);
      // `code changed: lib/clean.ts#RATE at lib/clean.ts:12 (1f3a9c20 → 7b04e6d1)`, one per symbol; `package leven 1.0.0 → 1.0.1`.
      const changes = reason.changes.map((change) => packageChange(change) ??
        `${change.symbol}${change.location ? ` at ${change.location}` : ''} (${change.before ? change.before.slice(0, 8) : 'new'} → ${change.after ? change.after.slice(0, 8) : 'removed'})`);
      return `code changed: ${changes.join(', ')}${reason.notes.length > 0 ? `. Note: ${reason.notes.join('; ')}` : ''}`;
    }
    default:
      return describeReason(reason);
  }
}

function reasonsText(reasons: readonly PlanReason[], parenthesised = false): string {
  return reasons.map((reason) => reasonText(reason, parenthesised)).join('; ');
}

/** What will happen to an upstream task a dependent waits on, after "which". */
function outlookText(upstream: TaskPlan): string {
  switch (upstream.action) {
    case 'run':
      return `will run (${reasonsText(upstream.reasons, true)})`;
    case 'wait':
      return `waits on ${joinWith('and', upstream.waitsOn!)}`;
    default:
      return `is skipped, its cached result used only if ${resultOf(upstream.waitsOn!)} does not change`;
  }
}

/**
 * The skipped task with no fresh result at the root of a block. The runner blocks a task on its
 * first dependency without a result, so this follows the first such dependency at each step.
 * Undefined only for a cache entry that claims a result without its hash.
 */
function blockingTask(plan: Plan, name: string, context: ExplainContext): TaskPlan | undefined {
  let current = name;
  for (;;) {
    const dependency = context.dependencies(current).map((next) => plan.task(next)!).find(
      (next) => next.action === 'blocked' || (next.action === 'skipped' && next.reasons.length > 0),
    );
    if (dependency?.action !== 'blocked') return dependency;
    current = dependency.name;
  }
}

/** `Clean's result` or `the result of Clean or Load`. */
function resultOf(names: readonly string[]): string {
  return names.length === 1 ? `${names[0]}'s result` : `the result of ${joinWith('or', names)}`;
}

/** `A`, `A and B`, `A, B and C`. */
function joinWith(conjunction: 'and' | 'or', items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1)}`;
}
