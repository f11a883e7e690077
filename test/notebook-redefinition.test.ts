import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { DuplicateTaskError, Task } from '../lib/index.js';
import { statuses, testPipeline } from './helpers.js';

/**
 * What the tslab kernel sets on globalThis before it runs a cell (see lib/report/notebook.ts):
 * its `require` answers 'tslab' with the kernel's display. test/notebook.test.ts runs a real
 * kernel; here the rule is checked in this process, against the kernel's global alone.
 */
function enterNotebook(): string[] {
  const shown: string[] = [];
  const display = { html: (html: string) => shown.push(html) };
  Object.assign(globalThis, { __tslab__: { exports: {}, require: (id: string) => (id === 'tslab' ? { display } : undefined) } });
  return shown;
}

afterEach(() => {
  delete (globalThis as { __tslab__?: unknown }).__tslab__;
});

const loadTask = (value: number) => new Task('Load').process('run', () => value);

test('in a notebook, adding a different task under a taken name replaces it, as re-running its cell does', async () => {
  enterNotebook();
  const pipeline = testPipeline('Notebook');
  const sum = new Task('Sum', { dependencies: ['Load'] }).process('run', (t) => t.result<number>('Load') + 1);
  pipeline.add(loadTask(1), sum);
  await pipeline.execute({ progress: false });
  assert.equal(await pipeline.getResult('Sum'), 2);

  // The edited cell: new code, so the new definition runs.
  const redefined = new Task('Load').process('run', () => 40 + 1);
  pipeline.add(redefined, sum);
  assert.equal(pipeline.getTask('Load'), redefined);
  assert.deepEqual(pipeline.tasks.map((task) => task.name), ['Load', 'Sum']);
  const report = await pipeline.execute({ progress: false });
  assert.deepEqual(statuses(report), { Load: 'ran', Sum: 'ran' });
  assert.equal(await pipeline.getResult('Sum'), 42);
});

test('in a notebook, two different tasks of one name in one add() are still a DuplicateTaskError, and add nothing', () => {
  enterNotebook();
  const pipeline = testPipeline('NotebookTwice');
  const first = loadTask(1);
  pipeline.add(first);
  assert.throws(() => pipeline.add(loadTask(2), loadTask(3)), DuplicateTaskError);
  assert.equal(pipeline.getTask('Load'), first);
});

test('outside a notebook, the same redefinition is a DuplicateTaskError', () => {
  const pipeline = testPipeline('Script');
  const first = loadTask(1);
  pipeline.add(first);
  assert.throws(() => pipeline.add(loadTask(2)), DuplicateTaskError);
  assert.equal(pipeline.getTask('Load'), first);
});

test('in a notebook, a run shows its report through the kernel display, as an HTML table', async () => {
  const shown = enterNotebook();
  const pipeline = testPipeline('NotebookReport');
  pipeline.add(loadTask(1));
  await pipeline.execute();
  assert.equal(shown.length, 1);
  assert.match(shown[0]!, /^<table[^>]*>.*<td[^>]*>Load<\/td><td[^>]*>ran<\/td>.*<\/table>$/s);
});
