import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { Pipeline, type PipelineOptions } from '../lib/index.js';

/** A fresh temporary folder, removed when the test file ends. */
export function temporaryFolder(prefix = 'littlepipes-test-'): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // Retries cover a pipeline a test did not close, whose log files may still be landing.
  after(() => fs.rmSync(folder, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  return folder;
}

/**
 * A pipeline on a real SQLite cache in its own temporary folder. When the test file ends it is
 * closed first (which waits for its background log writes), then its folder is removed.
 */
export function testPipeline(name = 'Test', options: PipelineOptions = {}): Pipeline {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'littlepipes-test-'));
  const pipeline = new Pipeline(name, { cacheDir: folder, ...options });
  after(async () => {
    await pipeline.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });
  return pipeline;
}

/** Statuses of a run report by task name, for compact assertions. */
export function statuses(report: { tasks: readonly { name: string; status: string }[] }): Record<string, string> {
  return Object.fromEntries(report.tasks.map((task) => [task.name, task.status]));
}
