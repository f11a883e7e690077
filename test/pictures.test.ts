import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError, type Pipeline, PipelineRunError, type RunRecord, Task, type TaskRecord, expire } from '../lib/index.js';
import {
  type GraphView,
  type NodeState,
  NODE_STATES,
  STATE_STYLES,
  asciiGraph,
  criticalPath,
  dotGraph,
  graphViewFromPlan,
  graphViewFromRun,
  htmlPage,
  layoutGraph,
  mermaidGraph,
  mermaidTimeline,
} from '../lib/report/pictures/index.js';
import { testPipeline } from './helpers.js';

const quiet = { progress: false } as const;

function task(name: string, dependencies: string[] = [], options: { fail?: boolean; expire?: ReturnType<typeof expire.never> } = {}) {
  return new Task(name, { dependencies, expire: options.expire, description: `${name} step` }).process('run', () => {
    if (options.fail) throw new Error(`${name} cannot reach <the source> & gives up`);
    return name.length;
  });
}

/** A run that fails: Load and the odd names run, Bad fails, After bad is blocked. */
async function failedRun(pipeline: Pipeline): Promise<RunRecord> {
  pipeline.add(
    task('Load'),
    task('a<b>&c', ['Load']),
    task('With spaces', ['Load']),
    task('Bad', ['Load'], { fail: true }),
    task('After bad', ['Bad']),
    task('Report', ['a<b>&c', 'With spaces']),
  );
  const error = await pipeline.execute(quiet).then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError, 'the run rejects with PipelineRunError');
  return error.report.toJSON();
}

function states(view: GraphView): Record<string, NodeState> {
  return Object.fromEntries(view.nodes.map((node) => [node.name, node.state]));
}

function record(name: string, status: TaskRecord['status'], startMs?: number, endMs?: number): TaskRecord {
  const times = startMs === undefined ? {} : { startMs, endMs };
  return { name, status, reason: status === 'ran' ? 'not cached' : 'fresh', ms: (endMs ?? 0) - (startMs ?? 0), processes: [], ...times };
}

function runOf(tasks: TaskRecord[], ms = Math.max(0, ...tasks.map((task) => task.endMs ?? 0))): RunRecord {
  return { pipeline: 'Made', startedAt: '2024-05-01T12:00:00.000Z', ms, counts: { ran: 0, cached: 0, failed: 0, blocked: 0, skipped: 0, cancelled: 0 }, tasks };
}

function viewOf(dependencies: Record<string, string[]>, state: NodeState = 'fresh'): GraphView {
  return { pipeline: 'Made', nodes: Object.entries(dependencies).map(([name, needs]) => ({ name, dependencies: needs, state })) };
}

/** 60 tasks in 6 layers, each depending on two tasks of the layer above. */
function sixtyTasks(): GraphView {
  const nodes = Array.from({ length: 60 }, (_, index) => {
    const layer = Math.floor(index / 10);
    const dependencies = layer === 0 ? [] : [`Step ${(layer - 1) * 10 + (index % 10)}`, `Step ${(layer - 1) * 10 + ((index + 3) % 10)}`];
    return { name: `Step ${index}`, dependencies, state: NODE_STATES[index % NODE_STATES.length]! };
  });
  return { pipeline: 'Sixty', nodes };
}

/** The values of one attribute in an HTML text, unescaped. */
function attributeValues(html: string, attribute: string): string[] {
  const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
  return [...html.matchAll(new RegExp(` ${attribute}="([^"]*)"`, 'g'))].map((match) => match[1]!.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => entities[entity]!));
}

test('a plan view colours each task by what the next run will do, and says why', async () => {
  const pipeline = testPipeline('Plans');
  pipeline.add(task('Load'), task('Prices', [], { expire: expire.onComplete() }), task('Join', ['Load', 'Prices']));
  await pipeline.execute(quiet);
  pipeline.add(task('Extra'), task('Uses extra', ['Extra']));

  const view = graphViewFromPlan(pipeline.tasks, await pipeline.plan({ skip: ['Extra'] }));
  assert.equal(view.pipeline, 'Plans');
  assert.deepEqual(states(view), { Load: 'fresh', Prices: 'will run', Join: 'waits', Extra: 'skipped', 'Uses extra': 'blocked' });
  const node = (name: string) => view.nodes.find((candidate) => candidate.name === name)!;
  assert.match(node('Prices').detail!, /^expired/);
  assert.match(node('Join').detail!, /waits on Prices/);
  assert.match(node('Extra').detail!, /^it has no cached result$/);
  assert.match(node('Uses extra').detail!, /needs Extra/);
  assert.equal(node('Load').detail, undefined);
  assert.deepEqual(node('Join').dependencies, ['Load', 'Prices']);
  assert.equal(node('Join').description, 'Join step');
  // Topological order, as the pipeline gives it.
  assert.ok(view.nodes.findIndex((candidate) => candidate.name === 'Join') > view.nodes.findIndex((candidate) => candidate.name === 'Prices'), 'Join after Prices');
});

test('a run view shows what happened: ran and cached are fresh, failures and the tasks they block', async () => {
  const pipeline = testPipeline('Runs');
  const run = await failedRun(pipeline);
  const view = graphViewFromRun(pipeline.tasks, run);
  assert.deepEqual(states(view), { Load: 'fresh', 'a<b>&c': 'fresh', 'With spaces': 'fresh', Bad: 'failed', 'After bad': 'blocked', Report: 'fresh' });
  const detail = (name: string) => view.nodes.find((node) => node.name === name)!.detail!;
  assert.equal(detail('Bad'), 'Bad cannot reach <the source> & gives up');
  assert.match(detail('After bad'), /upstream Bad failed/);
  assert.match(detail('Load'), /^ran in .* \(not cached\)$/);

  const again = await pipeline.execute(quiet).then(() => undefined, (thrown: PipelineRunError) => thrown.report.toJSON());
  assert.equal(graphViewFromRun(pipeline.tasks, again!).nodes.find((node) => node.name === 'Load')!.detail, 'served from the cache');
});

test('during a run, running tasks and tasks the record does not have yet are told apart', async () => {
  const pipeline = testPipeline('Live');
  const run = await failedRun(pipeline);
  const partial = { ...run, tasks: run.tasks.filter((task) => task.name === 'Load') };
  const view = graphViewFromRun(pipeline.tasks, partial, new Set(['With spaces']));
  assert.deepEqual(states(view), { Load: 'fresh', 'a<b>&c': 'will run', 'With spaces': 'running', Bad: 'will run', 'After bad': 'will run', Report: 'will run' });

  const cancelled = graphViewFromRun(pipeline.tasks, { ...run, tasks: run.tasks.map((task) => ({ ...task, status: 'cancelled' as const })) });
  assert.ok(cancelled.nodes.every((node) => node.state === 'cancelled'), 'cancelled tasks are drawn cancelled');
});

test('the critical path follows, from the task that finished last, the dependency that finished last', () => {
  // Long was the longest task, but Slow finished later: the chain waits on Slow.
  const view = viewOf({ Long: [], Slow: [], Quick: [], Merge: ['Long', 'Slow'], Cached: [], Last: ['Merge', 'Quick', 'Cached'], Early: ['Long'] });
  const run = runOf([
    record('Long', 'ran', 0, 250),
    record('Slow', 'ran', 100, 300),
    record('Quick', 'ran', 0, 20),
    record('Merge', 'ran', 300, 400),
    record('Cached', 'cached'),
    record('Last', 'failed', 400, 450),
    record('Early', 'ran', 250, 260),
  ]);
  assert.deepEqual(criticalPath(run, view), ['Slow', 'Merge', 'Last']);
  assert.deepEqual(criticalPath(runOf([record('Cached', 'cached')]), view), []);
});

test('the terminal picture lists every task by layer with its state, dependencies and why', async () => {
  const pipeline = testPipeline('Terminal');
  const run = await failedRun(pipeline);
  const view = graphViewFromRun(pipeline.tasks, run);
  const text = asciiGraph(view);
  const lines = text.split('\n');
  assert.equal(lines[0], 'Terminal: 6 tasks');
  assert.deepEqual(lines.filter((line) => line.startsWith('layer')), ['layer 1', 'layer 2', 'layer 3']);
  const lineOf = (name: string) => lines.find((line) => line.includes(` ${name} `))!;
  assert.match(lineOf('Load'), /^ {2}✓ Load +fresh +ran in/);
  assert.match(lineOf('Bad'), /✗ Bad +failed +← Load +Bad cannot reach/);
  assert.match(lineOf('Report'), /← a<b>&c, With spaces/);
  assert.ok(lines.indexOf(lineOf('Report')) > lines.indexOf('layer 3'), 'Report is in layer 3');
  assert.equal(lines.at(-1), '✓ fresh 4   ✗ failed 1   ■ blocked 1');
  assert.doesNotMatch(text, /\x1b/, 'no colour unless asked');

  const coloured = asciiGraph(view, { color: true });
  assert.match(coloured, /\x1b\[31m✗\x1b\[39m Bad/);
  assert.equal(coloured.replace(/\x1b\[\d+m/g, ''), text);
});

test('each state has its own marker and colour', () => {
  for (const style of [(state: NodeState) => STATE_STYLES[state].marker, (state: NodeState) => STATE_STYLES[state].fill, (state: NodeState) => STATE_STYLES[state].slug]) {
    assert.equal(new Set(NODE_STATES.map(style)).size, NODE_STATES.length);
  }
  const view = viewOf({ Only: [] });
  for (const state of NODE_STATES) {
    const one = { ...view, nodes: [{ ...view.nodes[0]!, state }] };
    assert.match(asciiGraph(one), new RegExp(`${STATE_STYLES[state].marker} Only +${state}`));
    assert.match(dotGraph(one), new RegExp(`class="${STATE_STYLES[state].slug}".*fillcolor="${STATE_STYLES[state].fill}"`));
    assert.match(htmlPage({ graph: one }), new RegExp(`class="node state-${STATE_STYLES[state].slug}" data-task="Only"`));
  }
});

test('a Mermaid flowchart has every task under a safe id, its real name as label, and a class per state', async () => {
  const pipeline = testPipeline('Markdown');
  const run = await failedRun(pipeline);
  const view = graphViewFromRun(pipeline.tasks, run);
  const text = mermaidGraph(view);
  assert.equal(text.split('\n')[0], 'flowchart LR');
  const nodes = [...text.matchAll(/^ {2}(\S+)\["([^"]*)"\]:::(\w+)$/gm)];
  assert.equal(nodes.length, view.nodes.length);
  for (const [, id] of nodes) assert.match(id!, /^[A-Za-z_][A-Za-z0-9_]*$/);
  assert.equal(new Set(nodes.map((match) => match[1])).size, nodes.length);
  const decoded = nodes.map((match) => match[2]!.replace(/#(\d+);/g, (_entity, code: string) => String.fromCharCode(Number(code))));
  assert.deepEqual(decoded, view.nodes.map((node) => node.name));
  assert.ok(text.includes('["a#60;b#62;#38;c"]'), 'brackets and ampersand as entity codes');
  assert.equal(nodes.find((match) => match[2] === 'Bad')![3], 'failed');
  assert.equal(nodes.find((match) => match[2] === 'After bad')![3], 'blocked');
  const edges = text.match(/^ {2}\S+ --> \S+$/gm)!;
  assert.equal(edges.length, view.nodes.reduce((sum, node) => sum + node.dependencies.length, 0));
  for (const state of ['fresh', 'willRun', 'waits', 'running', 'failed', 'blocked', 'skipped', 'cancelled']) assert.match(text, new RegExp(`^ {2}classDef ${state} fill:#`, 'm'));
});

test('Mermaid text escapes quotes, entity starts and names that read like keywords', () => {
  const view = viewOf({ 'say "hi"': [], 'a#60;b': [], 'x: y; z': [], 'Section two': [], end: [] });
  const graph = mermaidGraph(view);
  assert.ok(graph.includes('["say #34;hi#34;"]'), graph);
  assert.ok(graph.includes('["a#35;60;b"]'), 'a # is written as a code, so text that looks like a code stays text');
  assert.match(graph, /^ {2}t_end\["end"\]/m);
  const run = runOf(view.nodes.map((node, index) => record(node.name, 'ran', index * 10, index * 10 + 5)));
  const gantt = mermaidTimeline(run);
  assert.match(gantt, /^ {2}x#58; y#59; z :/m);
  assert.match(gantt, /^ {2}#83;ection two :/m);
});

test('a Mermaid timeline has one bar per task that ran or failed, in ms since the epoch, the critical path marked crit', async () => {
  const pipeline = testPipeline('Gantt');
  const run = await failedRun(pipeline);
  const view = graphViewFromRun(pipeline.tasks, run);
  const text = mermaidTimeline(run, view);
  assert.match(text, /^gantt\n {2}title Gantt, .+\n {2}dateFormat x\n {2}axisFormat %H:%M:%S\.%L\n {2}todayMarker off/);
  const bars = [...text.matchAll(/^ {2}(.+?) :(.*)$/gm)].map(([, name, data]) => ({ name: name!, data: data!.split(', ') }));
  const timed = run.tasks.filter((task) => task.status === 'ran' || task.status === 'failed');
  assert.deepEqual(bars.map((bar) => bar.name).sort(), timed.map((task) => task.name).sort());
  const started = Date.parse(run.startedAt);
  for (const bar of bars) {
    const [start, end] = bar.data.slice(-2).map(Number);
    const task = run.tasks.find((candidate) => candidate.name === bar.name)!;
    assert.ok(Number.isInteger(start) && Number.isInteger(end) && end! > start!, `${bar.name}: whole ms, ending after it starts`);
    assert.ok(Math.abs(start! - (started + task.startMs!)) <= 1, `${bar.name} starts when it started`);
  }
  const critical = criticalPath(run, view);
  assert.ok(critical.length > 0, 'a critical path');
  for (const bar of bars) assert.equal(bar.data.includes('crit'), critical.includes(bar.name), bar.name);
  assert.match(text, /^ {2}section failed\n {2}Bad :/m);
  assert.doesNotMatch(mermaidTimeline(run), /crit/, 'without the graph there is no critical path');
});

test('DOT quotes every name and escapes quotes and backslashes, so each statement parses', async () => {
  const pipeline = testPipeline('Dot');
  const run = await failedRun(pipeline);
  const view = graphViewFromRun(pipeline.tasks, run);
  const text = dotGraph(view);
  assert.match(text, /^digraph "Dot" \{\n/);
  assert.match(text, /\n\}$/);
  for (const node of view.nodes) assert.match(text, new RegExp(`^ {2}"${node.name}" \\[label="${node.name}", class="${STATE_STYLES[node.state].slug}"`, 'm'));
  assert.ok(text.includes('  "a<b>&c" -> "Report";'), text);

  const odd = dotGraph(viewOf({ 'say "hi"': [], 'back\\slash\\': ['say "hi"'] }));
  assert.ok(odd.includes('  "say \\"hi\\"" [label="say \\"hi\\""'), odd);
  assert.ok(odd.includes('  "say \\"hi\\"" -> "back\\\\slash\\\\";'), odd);
  // Every line is whole statements: quoted strings close, and nothing is left outside them but DOT syntax.
  for (const line of odd.split('\n').slice(1, -1)) {
    const outside = line.replace(/"(?:[^"\\]|\\.)*"/g, 'S');
    assert.doesNotMatch(outside, /["\\]/, line);
    assert.match(outside, /^ {2}(S \[.*\]|S -> S|graph \[.*\]|node \[.*\]|edge \[.*\]);$/, line);
  }
});

test('the HTML page draws every task as a node with its state, escaped, and needs nothing from a network', async () => {
  const pipeline = testPipeline('Page');
  const run = await failedRun(pipeline);
  const view = graphViewFromRun(pipeline.tasks, run);
  const html = htmlPage({ graph: view, run, title: 'Page & <friends>' });
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.ok(html.includes('<title>Page &amp; &lt;friends&gt;</title>'), 'the title escaped');
  const dag = html.slice(html.indexOf('<svg class="dag"'), html.indexOf('</svg>'));
  assert.deepEqual(attributeValues(dag, 'data-task'), view.nodes.map((node) => node.name));
  assert.ok(dag.includes('data-task="a&lt;b&gt;&amp;c"'), 'the name escaped in its attribute');
  assert.ok(!html.includes('a<b>&c'), 'a raw name would be markup');
  assert.ok(html.includes('Bad cannot reach &lt;the source&gt; &amp; gives up'), 'the error in the tooltip');
  assert.match(dag, /class="node state-failed" data-task="Bad"/);
  assert.match(dag, /class="node state-blocked" data-task="After bad"/);
  assert.equal(dag.match(/<path class="edge/g)!.length, view.nodes.reduce((sum, node) => sum + node.dependencies.length, 0));
  assert.match(dag, /<path class="edge broken" d="[^"]+" marker-end="url\(#lp-arrow-broken\)"\/>/, 'the arrow that leaves After bad without a result');
  assert.match(html, /<span class="item" data-state="fresh"><span class="swatch state-fresh"><\/span>fresh <b>4<\/b><\/span>/);
  assert.match(html, /<span class="item none" data-state="running">/);

  // Self-contained: no scripts, stylesheets, images or fonts to fetch.
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\((?!#)|\b(src|href)=/i);
  assert.deepEqual([...new Set(html.match(/https?:\/\/[^\s"')]+/g))], ['http://www.w3.org/2000/svg'], 'the only URL is the SVG namespace, which is never fetched');
  assert.doesNotMatch(html, /http-equiv="refresh"/);
});

test('the HTML timeline has one bar per task that ran, and outlines the critical path', () => {
  const view = viewOf({ Long: [], Slow: [], Merge: ['Long', 'Slow'], Cached: [], Last: ['Merge', 'Cached'], Stopped: [] });
  const run = runOf([
    record('Long', 'ran', 0, 250),
    record('Slow', 'ran', 100, 300),
    record('Merge', 'ran', 300, 400),
    record('Cached', 'cached'),
    record('Last', 'failed', 400, 450),
    record('Stopped', 'cancelled', 10, 40),
  ]);
  const html = htmlPage({ graph: view, run });
  const timeline = html.slice(html.indexOf('<section class="card timeline">'));
  const bars = [...timeline.matchAll(/<rect class="bar state-([\w-]+)" data-task="([^"]*)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)];
  assert.deepEqual(bars.map((bar) => bar[2]), ['Long', 'Stopped', 'Slow', 'Merge', 'Last'], 'by start time, and no bar for the cached task');
  assert.deepEqual(Object.fromEntries(bars.map((bar) => [bar[2], bar[1]])), { Long: 'fresh', Stopped: 'cancelled', Slow: 'fresh', Merge: 'fresh', Last: 'failed' });
  const widths = Object.fromEntries(bars.map((bar) => [bar[2], Number(bar[4])]));
  assert.ok(Math.abs(widths.Long! / widths.Merge! - 2.5) < 0.02, 'widths are proportional to durations');
  const x = Object.fromEntries(bars.map((bar) => [bar[2], Number(bar[3])]));
  assert.ok(Math.abs(x.Merge! - (x.Slow! + widths.Slow!)) < 0.2, 'a bar starts where the time axis puts its start');
  const critical = [...timeline.matchAll(/<g class="row critical"[^>]*><title>([^:]+):/g)].map((match) => match[1]);
  assert.deepEqual(critical, ['Slow', 'Merge', 'Last']);
  assert.match(timeline, /<b>Critical path<\/b> <span class="step">Slow<\/span> → <span class="step">Merge<\/span> → <span class="step">Last<\/span> <span class="muted">350 ms of the 450 ms run/);
  assert.equal(timeline.match(/<path class="link"/g)!.length, 2);
  assert.match(timeline, /<title>tasks running at once: 2 at most<\/title>/);
});

test('a run where nothing ran says so instead of drawing an empty timeline', () => {
  const html = htmlPage({ graph: viewOf({ Cached: [] }), run: runOf([record('Cached', 'cached')]) });
  assert.match(html, /No task ran: every task was cached, skipped or blocked/);
  assert.doesNotMatch(html, /class="bar/);
});

test('refreshSeconds makes a page that reloads itself, and must be a positive number', () => {
  const view = viewOf({ One: [] }, 'running');
  assert.match(htmlPage({ graph: view, refreshSeconds: 2 }), /<meta http-equiv="refresh" content="2">/);
  for (const refreshSeconds of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => htmlPage({ graph: view, refreshSeconds }), (error: unknown) => error instanceof InvalidOptionError && error.option === 'refreshSeconds');
  }
});

test('a graph of 60 tasks renders in every format', () => {
  const view = sixtyTasks();
  const names = view.nodes.map((node) => node.name);
  const ascii = asciiGraph(view).split('\n');
  const taskLines = ascii.filter((line) => /^ {2}\S /.test(line));
  assert.equal(taskLines.length, 60);
  assert.deepEqual(ascii.filter((line) => line.startsWith('layer')), ['layer 1', 'layer 2', 'layer 3', 'layer 4', 'layer 5', 'layer 6']);
  assert.ok(taskLines.every((line) => line.length < 80), 'one short line per task');
  assert.equal(mermaidGraph(view).match(/\]:::/g)!.length, 60);
  assert.equal(dotGraph(view).match(/ \[label=/g)!.length, 60);

  const html = htmlPage({ graph: view });
  assert.deepEqual(attributeValues(html, 'data-task'), names);
  const positions = [...html.matchAll(/data-task="[^"]*" data-state="[^"]*" transform="translate\(([-\d.]+),([-\d.]+)\)"/g)].map((match) => `${match[1]},${match[2]}`);
  assert.equal(positions.length, 60);
  assert.equal(new Set(positions).size, 60, 'no two nodes drawn on top of each other');
  const [, width, height] = html.match(/<svg class="dag" [^>]*width="(\d+)" height="(\d+)"/)!;
  assert.ok(Number(width) > 0 && Number(height) > 0, `a drawing of ${width} × ${height}`);
});

test('a graph laid out once draws, in any states of its tasks, the page it would draw laid out anew', () => {
  const planned = sixtyTasks();
  const layout = layoutGraph(planned);
  assert.equal(htmlPage({ graph: planned, layout }), htmlPage({ graph: planned }));
  // A task's place does not depend on its state, so a live page keeps the layout of the plan.
  const later = { ...planned, nodes: planned.nodes.map((node, index) => ({ ...node, state: NODE_STATES[(index + 3) % NODE_STATES.length]! })) };
  const run = runOf([record('Step 0', 'ran', 0, 20), record('Step 10', 'failed', 20, 45)]);
  assert.equal(htmlPage({ graph: later, layout, run, refreshSeconds: 2 }), htmlPage({ graph: later, run, refreshSeconds: 2 }));
});

test('a layout of another graph is refused, naming the task it has no place for', () => {
  const layout = layoutGraph(viewOf({ Load: [], Report: ['Load'] }));
  assert.throws(
    () => htmlPage({ graph: viewOf({ Load: [], Clean: ['Load'] }), layout }),
    (error: unknown) => error instanceof InvalidOptionError && error.option === 'layout' && /no place for the task "Clean"/.test(error.message),
  );
});

test('the pictures are a separate entry of the package, littlepipes/pictures, as the README shows', async () => {
  const entry = (await import('littlepipes/pictures')) as Record<string, unknown>;
  for (const name of ['graphViewFromPlan', 'graphViewFromRun', 'htmlPage', 'layoutGraph', 'mermaidGraph', 'mermaidTimeline', 'dotGraph', 'asciiGraph', 'criticalPath']) {
    assert.equal(typeof entry[name], 'function', name);
  }
});
