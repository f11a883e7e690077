import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatMs } from '../lib/index.js';
import { cli, makeProject } from './cli/project.js';

// `run --html FILE` keeps a picture of the run in FILE while it runs. Redrawing it on every task
// start and finish made a run of quick tasks several times slower, and the drawing counted in
// the tasks' own times. The page is redrawn on a timer, at most every 250 ms, plus a first page
// before the run and a last one from the report; and the times it shows are the report's.

const TASKS = 120;
const REDRAW_MS = 250;

/** Many quick tasks, each its own: a run of them announces 2 × TASKS starts and finishes. */
const QUICK_TASKS = `
import { Pipeline, Task } from 'littlepipes';
export const pipeline = new Pipeline('Quick').add(
  ...Array.from({ length: ${TASKS} }, (_, index) => new Task('Quick' + index).process('run', () => index)),
);
`;

interface Report {
  ms: number;
  tasks: { name: string; status: string; ms: number; startMs?: number; endMs?: number }[];
}

/**
 * `littlepipes run --html run.html --json`, and each page a reader could have found at run.html
 * during it. The page is renamed into place, one rename per page, so the folder's watcher sees
 * one event naming run.html per page written; each is read there and then.
 */
async function runWatched(project: string): Promise<{ report: Report; pages: string[]; stderr: string }> {
  const file = path.join(project, 'run.html');
  const pages: string[] = [];
  const watcher = fs.watch(project, (_event, name) => {
    if (name !== 'run.html') return;
    try {
      pages.push(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  });
  try {
    const result = await cli(project, 'run', '--html', 'run.html', '--json');
    assert.equal(result.code, 0, result.stderr);
    return { report: JSON.parse(result.stdout) as Report, pages, stderr: result.stderr };
  } finally {
    watcher.close();
  }
}

/** Each timeline bar's task, the times it carries exactly, and the duration printed beside it. */
function barTimes(html: string): Map<string, { startMs: number; endMs: number; ms: number; shown: string }> {
  const bars = html.matchAll(/<rect class="bar [^"]*" data-task="([^"]*)"[^>]* data-start-ms="([^"]+)" data-end-ms="([^"]+)" data-ms="([^"]+)"\/><text class="duration"[^>]*>([^<]*)<\/text>/g);
  return new Map([...bars].map(([, name, startMs, endMs, ms, shown]) => [name!, { startMs: Number(startMs), endMs: Number(endMs), ms: Number(ms), shown: shown! }]));
}

test('run --html redraws the page at most every 250 ms of the run, plus a first and a last page, not on every start and finish', async () => {
  const project = makeProject(QUICK_TASKS);
  const { report, pages } = await runWatched(project);
  assert.equal(report.tasks.filter((task) => task.status === 'ran').length, TASKS);
  // A bound from the run's own length, not a guess at the machine's speed: a slow run may redraw
  // more often, but never more than once a period; each start and finish redrew it before.
  const most = 2 + Math.floor(report.ms / REDRAW_MS) + 1;
  assert.ok(pages.length >= 1, 'the watcher saw the page written');
  assert.ok(pages.length <= most, `${pages.length} pages written during a run of ${Math.round(report.ms)} ms; at most ${most}`);
  assert.ok(pages.length < TASKS, `${pages.length} pages for ${2 * TASKS} starts and finishes`);
  for (const page of pages) assert.match(page, /<\/html>$/, 'a reader finds a whole page, never half of one');
});

test('the page of a finished run shows the times of the report: each bar the start, end and ms of its task', async () => {
  const project = makeProject(QUICK_TASKS);
  const { report, stderr } = await runWatched(project);
  assert.match(stderr, /Picture of the run: .*run\.html/);
  const html = fs.readFileSync(path.join(project, 'run.html'), 'utf8');
  assert.doesNotMatch(html, /http-equiv="refresh"/, 'the finished page no longer refreshes itself');
  const bars = barTimes(html);
  const ran = report.tasks.filter((task) => task.status === 'ran');
  assert.deepEqual([...bars.keys()].sort(), ran.map((task) => task.name).sort(), 'a bar for each task that ran');
  for (const task of ran) {
    assert.deepEqual(bars.get(task.name), { startMs: task.startMs, endMs: task.endMs, ms: task.ms, shown: formatMs(task.ms) }, task.name);
  }
});
