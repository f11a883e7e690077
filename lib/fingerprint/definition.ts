import fs from 'node:fs';
import path from 'node:path';
import { CodeAnalysisError } from '../errors.js';
import type { AnyTask } from '../task.js';
import { CodeAnalysis } from './code.js';
import { prepareParsing } from './source-module.js';
import { hashBytes, joinParts } from './hash.js';
import { stableJson } from './params.js';

/**
 * What a task's definition contributes to its fingerprint, kept in parts so that a plan can say
 * which part changed. The results of its dependencies are the other contribution (see plan/freshness.ts).
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
/** Definition fingerprints in the current analysis: decided on and then written, each computed once. */
let definitions = new WeakMap<AnyTask, DefinitionFingerprint>();
/** What never changes for a task object (its dependencies and params are frozen): hashed once. */
const fixedParts = new WeakMap<AnyTask, { options: string; params: string | undefined }>();

/**
 * Starts a new look at the source files, so that edits made since the last one are seen: called
 * when a run, a plan or a getResult starts. Within one look each file is checked once. Async
 * because the parser is imported at the first look, not when littlepipes is imported.
 */
export async function refreshCodeAnalysis(): Promise<CodeAnalysis> {
  await prepareParsing();
  analysis = new CodeAnalysis();
  definitions = new WeakMap();
  return analysis;
}

/** The current look at the source files (for explanations: locations and notes). */
export function currentCodeAnalysis(): CodeAnalysis {
  return analysis;
}

/**
 * What analysis of a task's code warns the user of (see CodeFingerprint.warnings), in the
 * current look. None once the task declares inputs or sources, which is what the warnings ask
 * for, and none when its code cannot be analysed: running the task fails with that error.
 */
export function codeWarnings(task: AnyTask): string[] {
  if (task.inputs.length > 0 || task.sources.length > 0) return [];
  try {
    return analysis.fingerprint(task).warnings;
  } catch (error) {
    if (error instanceof CodeAnalysisError) return [];
    throw error;
  }
}

/** The definition fingerprint of a task, in the current look at the source files. */
export function definitionFingerprint(task: AnyTask): DefinitionFingerprint {
  let fingerprint = definitions.get(task);
  if (!fingerprint) {
    let fixed = fixedParts.get(task);
    if (!fixed) {
      fixed = {
        // Sorted, so that listing them in another order is no change; a copy only when there is something to sort.
        options: hashBytes(joinParts(task.dependencies.length < 2 ? task.dependencies : [...task.dependencies].sort())),
        params: Object.keys(task.params).length > 0 ? hashBytes(stableJson(task.params)) : undefined,
      };
      fixedParts.set(task, fixed);
    }
    const code = analysis.fingerprint(task);
    fingerprint = task.sources.length > 0
      ? withSources(task, code.hash, code.symbols)
      : { code: code.hash, options: fixed.options, symbols: code.symbols };
    fingerprint.options = fixed.options;
    if (fixed.params !== undefined) fingerprint.params = fixed.params;
    definitions.set(task, fingerprint);
  }
  return fingerprint;
}

/**
 * The code fingerprint of a task that also runs files (a script, a SQL file: its `sources`):
 * each file's content counts as a symbol of its code, named `file <path>`, so an edit to the
 * script re-runs the task and the reason names the file.
 */
function withSources(task: AnyTask, codeHash: string, symbols: Record<string, string>): DefinitionFingerprint {
  const all = { ...symbols };
  for (const source of task.sources) {
    let content: Buffer;
    try {
      content = fs.readFileSync(source);
    } catch (error) {
      throw new CodeAnalysisError(source, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (error as Error).message, task.name);
    }
    all[`file ${source.split(path.sep).join('/')}`] = hashBytes(content);
  }
  const entries = Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { code: hashBytes(joinParts([codeHash, ...entries.flat()])), options: '', symbols: all };
}
