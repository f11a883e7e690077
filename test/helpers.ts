import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { Pipeline, type PipelineOptions } from '../lib/index.js';

/** A fresh temporary folder, removed when the test file ends. */
export function temporaryFolder(prefix = 'littlepipes-test-'): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** A pipeline on a real SQLite cache in its own temporary folder, closed when the test file ends. */
export function testPipeline(name = 'Test', options: PipelineOptions = {}): Pipeline {
  const pipeline = new Pipeline(name, { cacheDir: temporaryFolder(), ...options });
  after(() => pipeline.close());
  return pipeline;
}

/** Statuses of a run report by task name, for compact assertions. */
export function statuses(report: { tasks: readonly { name: string; status: string }[] }): Record<string, string> {
  return Object.fromEntries(report.tasks.map((task) => [task.name, task.status]));
}
