import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { PipelineRunError, type RunRecord, Task } from '../lib/index.js';
import { type GraphView, criticalPath, graphViewFromRun, htmlPage } from '../lib/report/pictures/index.js';
import { temporaryFolder, testPipeline } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
// Headless, and nothing Chromium would fetch on its own: only the page's own requests remain to count.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;

before(async () => {
  assert.ok(
    fs.existsSync(CHROMIUM),
    `Chromium is not at ${CHROMIUM}, and the picture tests open the HTML page in it. Run the setup, then the tests again: ` +
      `bash scripts/setup-test-tools.sh (as root, or install it yourself: sudo apt-get install -y chromium).`,
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

after(async () => {
  await browser?.close();
});

/** 12 analyst-like tasks: three loads in parallel, a failing one, and what its failure blocks. */
async function failedRun(): Promise<{ run: RunRecord; view: GraphView }> {
  const pipeline = testPipeline('Sales & <Prices>');
  const step = (name: string, dependencies: string[], ms: number, fail = false) =>
    new Task(name, { dependencies, description: `The ${name} step` }).process('run', async () => {
      await sleep(ms);
      if (fail) throw new Error(`${name}: the "rates" service said <503> & hung up`);
      return ms;
    });
  pipeline.add(
    step('LoadSales', [], 40),
    step('LoadPrices', [], 80),
    step('LoadRates', [], 20),
    step('Clean sales', ['LoadSales'], 20),
    step('a<b>&c', ['LoadPrices'], 10),
    step('FetchFX', ['LoadRates'], 15, true),
    step('Convert', ['FetchFX', 'Clean sales'], 10),
    step('Join', ['Clean sales', 'a<b>&c'], 25),
    step('Totals by region', ['Join'], 20),
    step('Forecast', ['Join', 'Convert'], 10),
    step('Chart', ['Totals by region'], 15),
    step('Report', ['Chart', 'Forecast'], 5),
  );
  const error = await pipeline.execute({ progress: false }).then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(error instanceof PipelineRunError, 'FetchFX fails the run');
  const run = error.report.toJSON();
  return { run, view: graphViewFromRun(pipeline.tasks, run) };
}

/** Opens the page from a file:// URL, recording every request it makes and letting none reach a network. */
async function open(html: string) {
  const file = path.join(temporaryFolder('littlepipes-pictures-'), 'pipeline.html');
  fs.writeFileSync(file, html);
  const url = pathToFileURL(file).href;
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const requests: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  await context.route(/^(?!file:)/, (route) => route.abort());
  const page = await context.newPage();
  await page.goto(url);
  return { page, url, requests, close: () => context.close() };
}

test('the HTML page opens in Chromium with no network, every task drawn in the graph and every run task on the timeline', { timeout: 60_000 }, async () => {
  const { run, view } = await failedRun();
  assert.equal(run.tasks.find((task) => task.name === 'FetchFX')?.status, 'failed');
  assert.deepEqual(run.tasks.filter((task) => task.status === 'blocked').map((task) => task.name).sort(), ['Convert', 'Forecast', 'Report']);

  const { page, url, requests, close } = await open(htmlPage({ graph: view, run }));
  try {
    assert.equal(await page.title(), 'Sales & <Prices>');
    const nodes = await page.$$eval('[data-task]', (elements) =>
      elements
        .filter((element) => element.closest('svg.dag'))
        .map((element) => {
          // The project compiles without the DOM library: the page's window is reached through the element.
          const window = element.ownerDocument.defaultView!;
          element.scrollIntoView({ block: 'center', inline: 'center' });
          const box = element.getBoundingClientRect();
          const svg = element.closest('svg')!.getBoundingClientRect();
          const rect = element.querySelector('rect')!.getBoundingClientRect();
          const label = element.querySelector('text.name')!;
          const style = window.getComputedStyle(element);
          const atCenter = window.document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
          return {
            name: element.getAttribute('data-task')!,
            state: element.getAttribute('data-state'),
            label: label.textContent,
            fill: window.getComputedStyle(element.querySelector('rect')!).fill,
            width: box.width,
            height: box.height,
            inside: box.left >= svg.left && box.right <= svg.right && box.top >= svg.top && box.bottom <= svg.bottom,
            labelFits: label.getBBox().width <= rect.width - 8,
            visible: style.visibility !== 'hidden' && style.display !== 'none' && Number(style.opacity) > 0,
            onTop: atCenter !== null && element.contains(atCenter),
          };
        }),
    );
    assert.deepEqual(nodes.map((node) => node.name).sort(), view.nodes.map((node) => node.name).sort(), 'one node per task');
    for (const node of nodes) {
      assert.ok(node.width > 0 && node.height > 0, `${node.name} has a size (${node.width} × ${node.height})`);
      assert.ok(node.inside, `${node.name} is inside the drawing`);
      assert.ok(node.visible && node.onTop, `${node.name} is visible, with nothing drawn over it`);
      assert.equal(node.label, node.name, 'the label is the name as written, escaping undone by the browser');
      assert.ok(node.labelFits, `${node.name}: the label fits its box`);
    }
    const fills = Object.fromEntries(nodes.map((node) => [node.state, node.fill]));
    assert.equal(new Set(Object.values(fills)).size, Object.keys(fills).length, 'each state its own colour');
    assert.deepEqual(Object.keys(fills).sort(), ['blocked', 'failed', 'fresh']);

    const bars = await page.$$eval('svg.timeline rect.bar[data-task]', (elements) =>
      elements.map((element) => ({ name: element.getAttribute('data-task')!, width: element.getBoundingClientRect().width })),
    );
    const ran = run.tasks.filter((task) => task.status === 'ran' || task.status === 'failed').map((task) => task.name);
    assert.equal(ran.length, 9);
    assert.deepEqual(bars.map((bar) => bar.name).sort(), ran.sort(), 'one bar per task that ran');
    for (const bar of bars) assert.ok(bar.width > 0, `${bar.name}'s bar has a width`);
    const critical = await page.$$eval('svg.timeline .row.critical rect.bar', (elements) => elements.map((element) => element.getAttribute('data-task')));
    // Which load Join waited on longest depends on how busy the machine is; the rest of the chain does not.
    assert.deepEqual(critical, criticalPath(run, view), 'the critical path, outlined');
    assert.deepEqual(critical.slice(-3), ['Join', 'Totals by region', 'Chart']);

    assert.deepEqual(requests, [url], 'the page fetched nothing but itself');
  } finally {
    await close();
  }
});

test('a graph of 60 tasks is laid out in Chromium with no two tasks overlapping', { timeout: 60_000 }, async () => {
  const nodes = Array.from({ length: 60 }, (_, index) => {
    const layer = Math.floor(index / 10);
    const dependencies = layer === 0 ? [] : [`Task number ${(layer - 1) * 10 + (index % 10)}`, `Task number ${(layer - 1) * 10 + ((index * 7) % 10)}`];
    return { name: `Task number ${index}`, dependencies: [...new Set(dependencies)], state: 'fresh' as const };
  });
  const { page, close } = await open(htmlPage({ graph: { pipeline: 'Sixty', nodes } }));
  try {
    const boxes = await page.$$eval('svg.dag g.node', (elements) =>
      elements.map((element) => {
        const { left, right, top, bottom } = element.querySelector('rect')!.getBoundingClientRect();
        return { name: element.getAttribute('data-task')!, left, right, top, bottom };
      }),
    );
    assert.equal(boxes.length, 60);
    for (const [index, a] of boxes.entries()) {
      assert.ok(a.right > a.left && a.bottom > a.top, `${a.name} has a size`);
      for (const b of boxes.slice(index + 1)) {
        const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        assert.ok(!overlap, `${a.name} and ${b.name} overlap`);
      }
    }
  } finally {
    await close();
  }
});
