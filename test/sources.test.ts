import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CodeAnalysisError, InvalidOptionError, Task } from '../lib/index.js';
import { temporaryFolder, testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

test('a task\'s sources are part of its code: editing the file re-runs it, and the reason names the file', async () => {
  const folder = temporaryFolder();
  const script = path.relative(process.cwd(), path.join(folder, 'fit.R'));
  fs.writeFileSync(script, 'model <- lm(y ~ x)\n');
  const build = () => testPipeline('Sources').add(new Task('Fit', { sources: script }).process('run', () => fs.readFileSync(script, 'utf8').length));
  const pipeline = build();
  await pipeline.execute(quiet);
  assert.equal((await pipeline.plan()).task('Fit')?.action, 'cached');
  fs.writeFileSync(script, 'model <- glm(y ~ x)\n');
  const plan = await pipeline.plan();
  assert.equal(plan.task('Fit')?.action, 'run');
  const reason = plan.task('Fit')!.reasons[0]!;
  assert.equal(reason.kind, 'code changed');
  assert.deepEqual(reason.kind === 'code changed' && reason.changes.map((change) => change.symbol), [`file ${script.split(path.sep).join('/')}`]);
  const report = await pipeline.execute(quiet);
  assert.match(report.task('Fit')!.reason, /code changed: file .*fit\.R/);
});

test('a missing source file is a CodeAnalysisError naming the task and the file, before anything runs', async () => {
  const pipeline = testPipeline('MissingSource').add(new Task('Query', { sources: 'sql/nowhere.sql' }).process('run', () => 1));
  await assert.rejects(pipeline.execute(quiet), (error: unknown) => {
    const failure = error instanceof CodeAnalysisError ? error : (error as { report?: { task(name: string): { error?: Error } | undefined } }).report?.task('Query')?.error;
    return failure instanceof CodeAnalysisError && /Query: cannot analyse sql\/nowhere\.sql: the file does not exist/.test(failure.message);
  });
});

test('sources must be paths', () => {
  assert.throws(() => new Task('T', { sources: [''] }), (error: unknown) => error instanceof InvalidOptionError && /sources must be a path or an array of paths/.test(error.message));
});
