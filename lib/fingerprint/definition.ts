import type { AnyTask } from '../task.js';
import { hashBytes, joinParts } from './hash.js';

/**
 * What a task's definition contributes to its fingerprint, kept in parts so that a plan can say
 * which part changed. The results of its dependencies are the other contribution (see run/plan.ts).
 */
export interface DefinitionFingerprint {
  /** Hash of the source of every process, by name. */
  code: string;
  /** Hash of the options that change what the task computes: its dependency names. */
  options: string;
}

const byTask = new WeakMap<AnyTask, { processCount: number; fingerprint: DefinitionFingerprint }>();

/**
 * Hashes by the text they hash. Pipelines built in a loop (a task per region, per file) give
 * many tasks the same process source, and a new Task object for each; the text is hashed once.
 * Cleared when it grows large, so a long notebook session cannot grow it without bound.
 */
const byText = new Map<string, string>();
const BY_TEXT_LIMIT = 50_000;

function hashOnce(parts: readonly string[]): string {
  const text = joinParts(parts);
  let hash = byText.get(text);
  if (hash === undefined) {
    if (byText.size >= BY_TEXT_LIMIT) byText.clear();
    hash = hashBytes(text);
    byText.set(text, hash);
  }
  return hash;
}

/** The definition fingerprint of a task, computed once per task object (and again if processes are added). */
export function definitionFingerprint(task: AnyTask): DefinitionFingerprint {
  const known = byTask.get(task);
  if (known && known.processCount === task.processes.size) return known.fingerprint;
  const code: string[] = [];
  for (const [name, fn] of task.processes) code.push(name, fn.toString());
  const fingerprint = {
    code: hashOnce(code),
    options: hashOnce([...task.dependencies].sort()),
  };
  byTask.set(task, { processCount: task.processes.size, fingerprint });
  return fingerprint;
}
