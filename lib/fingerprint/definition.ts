import type { AnyTask } from '../task.js';
import { CodeAnalysis } from './code.js';
import { hashBytes, joinParts } from './hash.js';
import { stableJson } from './params.js';

/**
 * What a task's definition contributes to its fingerprint, kept in parts so that a plan can say
 * which part changed. The results of its dependencies are the other contribution (see run/freshness.ts).
 */
export interface DefinitionFingerprint {
  /** Hash of all the code the task reaches: its processes and the helpers, classes and constants they use. */
  code: string;
  /** Hash of the options that change what the task computes: its dependency names. */
  options: string;
  /** The hash of each piece of code reached, by symbol (`process run`, `lib/helpers.ts#clean`), to say what changed. */
  symbols?: Record<string, string>;
  /** Hash of the task's params. */
  params?: string;
}

let analysis = new CodeAnalysis();

/**
 * Starts a new look at the source files, so that edits made since the last one are seen: called
 * when a run, a plan or a getResult starts. Within one look each file is checked once.
 */
export function refreshCodeAnalysis(): CodeAnalysis {
  analysis = new CodeAnalysis();
  return analysis;
}

/** The current look at the source files (for explanations: locations and notes). */
export function currentCodeAnalysis(): CodeAnalysis {
  return analysis;
}

/** The definition fingerprint of a task, in the current look at the source files. */
export function definitionFingerprint(task: AnyTask): DefinitionFingerprint {
  const code = analysis.fingerprint(task);
  const fingerprint: DefinitionFingerprint = { code: code.hash, options: hashOnce([...task.dependencies].sort()), symbols: code.symbols };
  if (Object.keys(task.params).length > 0) fingerprint.params = hashBytes(stableJson(task.params));
  return fingerprint;
}

/**
 * Hashes by the text they hash: many tasks share dependency lists. Cleared when it grows large,
 * so a long notebook session cannot grow it without bound.
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
