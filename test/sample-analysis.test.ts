import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, cli } from './cli/project.js';
import { temporaryFolder } from './helpers.js';

/** samples/analysis copied into a project of its own, with littlepipes, DuckDB and arquero installed (linked). */
function analysisProject(): string {
  const folder = temporaryFolder('littlepipes-analysis-');
  fs.cpSync(path.join(REPO, 'samples', 'analysis'), folder, {
    recursive: true,
    filter: (source) => !/[/\\](out|\.littlepipes)$/.test(source),
  });
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: 'analysis', type: 'module' }));
  fs.mkdirSync(path.join(folder, 'node_modules'));
  fs.symlinkSync(REPO, path.join(folder, 'node_modules', 'littlepipes'), 'dir');
  fs.symlinkSync(path.join(REPO, 'node_modules', '@duckdb'), path.join(folder, 'node_modules', '@duckdb'), 'dir');
  fs.symlinkSync(path.join(REPO, 'node_modules', 'arquero'), path.join(folder, 'node_modules', 'arquero'), 'dir');
  return folder;
}

test('the sample analysis runs with its quick and full profiles: a stage, an optional QA group, a map, SQL on DuckDB and a Python task', { timeout: 120_000 }, async () => {
  const project = analysisProject();
  const quick = await cli(project, 'run', '--pipeline', 'pipeline.ts', '--profile', 'quick', '--json');
  assert.equal(quick.code, 0, quick.stderr);
  const statuses = (result: { stdout: string }) => Object.fromEntries((JSON.parse(result.stdout) as { tasks: { name: string; status: string }[] }).tasks.map((task) => [task.name, task.status]));
  assert.deepEqual(statuses(quick), { LoadAll: 'skipped', LoadLatest: 'ran', CheckUnits: 'skipped', ByRegion: 'ran', Files: 'ran', MonthSummary: 'ran', Months: 'ran', Chart: 'ran', Report: 'ran' });
  const report = fs.readFileSync(path.join(project, 'out', 'report.md'), 'utf8');
  assert.match(report, /^# Quick look at the latest month/);
  assert.match(report, /data\/sales-2026-03\.csv: 56 orders/);
  assert.match(report, /\d+\.\d\d per order\)/);
  assert.match(report, /east +#+ \d+\.\d\d/);

  const full = await cli(project, 'run', '--pipeline', 'pipeline.ts', '--profile', 'full', '--json');
  assert.equal(full.code, 0, full.stderr);
  assert.deepEqual(statuses(full), { LoadAll: 'ran', LoadLatest: 'skipped', CheckUnits: 'ran', ByRegion: 'ran', Files: 'cached', MonthSummary: 'cached', Months: 'cached', Chart: 'ran', Report: 'ran' });
  assert.equal((await cli(project, 'plan', '--pipeline', 'pipeline.ts', '--profile', 'full', '--check')).code, 0, 'everything is fresh for the full profile');

  fs.appendFileSync(path.join(project, 'sql', 'load-all.sql'), '-- reviewed\n');
  const plan = await cli(project, 'plan', '--pipeline', 'pipeline.ts', '--profile', 'full');
  assert.match(plan.stdout, /LoadAll +│ will run +│ code changed: file sql\/load-all\.sql/);
});
