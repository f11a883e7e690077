import type { AnyTask } from '../task.js';
import { hashParts } from './hash.js';

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

const memo = new WeakMap<AnyTask, { processCount: number; fingerprint: DefinitionFingerprint }>();

/** The definition fingerprint of a task, computed once per task object (and again if processes are added). */
export function definitionFingerprint(task: AnyTask): DefinitionFingerprint {
  const known = memo.get(task);
  if (known && known.processCount === task.processes.size) return known.fingerprint;
  const code: string[] = [];
  for (const [name, fn] of task.processes) code.push(name, fn.toString());
  const fingerprint = {
    code: hashParts(code),
    options: hashParts([...task.dependencies].sort()),
  };
  memo.set(task, { processCount: task.processes.size, fingerprint });
  return fingerprint;
}
