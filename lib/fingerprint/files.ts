import fs from 'node:fs';
import path from 'node:path';
import { createXXHash128 } from 'hash-wasm';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { InputFileError, OutputFileError } from '../errors.js';

/** What is known of one file: enough to tell, without reading it, that it has not changed. */
export interface FileRecord {
  size: number;
  mtimeMs: number;
  /** XXH3-128 of its contents. */
  hash: string;
}

/** Files by their path relative to the working directory (with `/` separators). */
export type FileRecords = Record<string, FileRecord>;

/** One input or output file that differs from what a cached result was computed with. */
export interface FileChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
}

/**
 * The files a task's `inputs` name: files as they are, folders as every file inside them, glob
 * patterns as what they match; sorted and without repeats. A missing file or folder, or a glob
 * that matches nothing (unless `allowEmpty`), is an InputFileError before anything runs.
 */
export function expandInputs(task: string, patterns: readonly string[], allowEmpty: boolean): string[] {
  const files = new Set<string>();
  for (const pattern of patterns) {
    if (isDynamicPattern(pattern)) {
      const matches = globSync(pattern, { onlyFiles: true, dot: false });
      if (matches.length === 0 && !allowEmpty) {
        throw new InputFileError(task, pattern, 'matches no file; check the pattern, or set allowEmptyInputs: true if none is fine');
      }
      for (const match of matches) files.add(toKey(match));
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(pattern);
    } catch {
      throw new InputFileError(task, pattern, 'does not exist; create it, or fix the path in the task\'s inputs');
    }
    if (stat.isDirectory()) for (const file of filesIn(pattern)) files.add(file);
    else files.add(toKey(pattern));
  }
  return [...files].sort();
}

/** The files a task's `outputs` name now (a folder counts as the files in it), and the outputs that are missing. */
export function existingOutputs(outputs: readonly string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  for (const output of outputs) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(output);
    } catch {
      missing.push(output);
      continue;
    }
    if (stat.isDirectory()) files.push(...filesIn(output));
    else files.push(toKey(output));
  }
  return { files: files.sort(), missing };
}

/** Checks, after a task ran, that every output it declares exists; returns their records. */
export async function recordOutputs(task: string, outputs: readonly string[], previous: FileRecords | undefined): Promise<FileRecords> {
  const { files, missing } = existingOutputs(outputs);
  if (missing.length > 0) throw new OutputFileError(task, missing[0]!, 'was not written by the task; write it, or remove it from the task\'s outputs');
  return recordFiles(files, previous);
}

/**
 * Records of files, reading only those whose size or mtime differ from `previous`: an unchanged
 * input of a gigabyte costs a stat, not a read.
 */
export async function recordFiles(files: readonly string[], previous: FileRecords | undefined): Promise<FileRecords> {
  const records: FileRecords = {};
  for (const file of files) {
    const stat = fs.statSync(file);
    const known = previous?.[file];
    records[file] = known && known.size === stat.size && known.mtimeMs === stat.mtimeMs
      ? known
      : { size: stat.size, mtimeMs: stat.mtimeMs, hash: await hashFile(file) };
  }
  return records;
}

/** Files added, removed or modified between two sets of records (by content, not by time). */
export function fileChanges(before: FileRecords = {}, after: FileRecords = {}): FileChange[] {
  const changes: FileChange[] = [];
  for (const file of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const then = before[file];
    const now = after[file];
    if (!then) changes.push({ path: file, change: 'added' });
    else if (!now) changes.push({ path: file, change: 'removed' });
    else if (then.hash !== now.hash) changes.push({ path: file, change: 'modified' });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A file's contents hashed as they stream in, so a large file is never held in memory. */
async function hashFile(file: string): Promise<string> {
  const hasher = await createXXHash128();
  hasher.init();
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hasher.update(chunk as Buffer);
  return hasher.digest('hex');
}

function filesIn(folder: string): string[] {
  return globSync('**/*', { cwd: folder, onlyFiles: true, dot: true }).map((file) => toKey(path.join(folder, file)));
}

/** A path relative to the working directory, with `/` separators: the key files are recorded under. */
function toKey(file: string): string {
  return path.relative(process.cwd(), path.resolve(file)).split(path.sep).join('/');
}
