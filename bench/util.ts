import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

/** One printed figure; `max` (at most) or `min` (at least) is its target, when it has one. */
export interface Figure {
  bench: string;
  name: string;
  value: number;
  unit: string;
  max?: number;
  min?: number;
}

/** A fresh temporary folder under os.tmpdir(). */
export function temporaryFolder(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeFolder(folder: string): void {
  fs.rmSync(folder, { recursive: true, force: true });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function min(values: readonly number[]): number {
  return Math.min(...values);
}

/**
 * A full garbage collection before a measurement, so that garbage left by the previous one is not
 * collected inside it. `npm run bench` starts node without --expose-gc, so the flag is set here.
 */
let collect: (() => void) | undefined;
export function fullGc(): void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
}

/** Wall time of `fn` in milliseconds, after a full GC. */
export async function timeMs<T>(fn: () => Promise<T> | T): Promise<{ ms: number; cpuMs: number; value: T }> {
  fullGc();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  // All of the process's threads: libuv's, where files and SQLite are written, too.
  return { ms, cpuMs: (used.user + used.system) / 1000, value };
}

export function fmt(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const d = abs >= 1000 ? 0 : abs >= 100 ? 1 : digits;
  return value.toFixed(d);
}

export function list(values: readonly number[]): string {
  return `[${values.map((value) => fmt(value)).join(', ')}]`;
}
