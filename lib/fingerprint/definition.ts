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
/** Which look at the source files is current: a fingerprint taken in an earlier one is taken again. */
let look = 0;

/** What is kept of a task between looks, and of its definition fingerprint in the look it was taken in. */
interface Memo {
  /** What never changes for a task object (its dependencies and params are frozen): hashed once. */
  options: string;
  params: string | undefined;
  look: number;
  fingerprint: DefinitionFingerprint | undefined;
}
/** One entry per task: a run decides on a task's fingerprint and then writes it, each taken once. */
const memos = new WeakMap<AnyTask, Memo>();

/**
 * Starts a new look at the source files, so that edits made since the last one are seen: called
 * when a run, a plan or a getResult starts. Within one look each file is checked once. Async
 * because the parser is imported at the first look, not when littlepipes is imported.
 */
export async function refreshCodeAnalysis(): Promise<CodeAnalysis> {
  await prepareParsing();
  analysis = new CodeAnalysis();
  look++;
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
  let memo = memos.get(task);
  if (!memo) {
    memo = {
      // Sorted, so that listing them in another order is no change.
      options: hashBytes(joinParts(sorted(task.dependencies))),
      params: Object.keys(task.params).length > 0 ? hashBytes(stableJson(task.params)) : undefined,
      look,
      fingerprint: undefined,
    };
    memos.set(task, memo);
  }
  if (memo.fingerprint && memo.look === look) return memo.fingerprint;
  const code = analysis.fingerprint(task);
  const fingerprint = task.sources.length > 0
    ? withSources(task, code.hash, code.symbols)
    : { code: code.hash, options: memo.options, symbols: code.symbols };
  fingerprint.options = memo.options;
  if (memo.params !== undefined) fingerprint.params = memo.params;
  memo.look = look;
  memo.fingerprint = fingerprint;
  return fingerprint;
}

/** The names in order; the list itself when it is in order already (most are), as sorting a copy makes garbage. */
function sorted(names: readonly string[]): readonly string[] {
  let index = 1;
  while (index < names.length && names[index - 1]! <= names[index]!) index++;
  if (index >= names.length) return names;
  // An insertion sort: lists of dependencies are short, and Array#sort's set-up costs more than it.
  const copy = [...names];
  for (; index < copy.length; index++) {
    const name = copy[index]!;
    let at = index;
    for (; at > 0 && copy[at - 1]! > name; at--) copy[at] = copy[at - 1]!;
    copy[at] = name;
  }
  return copy;
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
