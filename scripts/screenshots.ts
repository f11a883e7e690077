/**
 * The README's pictures, docs/graph.png and docs/timeline.png: a small sales pipeline runs once
 * (its weather feed fails), then the page `littlepipes graph --html` would write is opened in
 * headless Chromium and its two parts are captured.
 *
 *   node --import tsx scripts/screenshots.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { Pipeline, PipelineRunError, Task, expire } from '../lib/index.js';
import { graphViewFromPlan, htmlPage } from '../lib/report/pictures/index.js';

const CHROMIUM = '/usr/bin/chromium';
const docs = path.join(import.meta.dirname, '..', 'docs');
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'littlepipes-screenshots-'));

/** A step that takes `ms` of pretend work, like a query or a download. */
function step(name: string, description: string, dependencies: string[], ms: number, options: { fail?: string; expire?: ReturnType<typeof expire.never> } = {}) {
  return new Task(name, { dependencies, description, expire: options.expire }).process('run', async () => {
    await sleep(ms);
    if (options.fail) throw new Error(options.fail);
    return ms;
  });
}

const pipeline = new Pipeline('Sales', { cacheDir: folder }).add(
  step('LoadSales', 'Reads the sales export', [], 900),
  step('LoadPrices', 'Downloads the price list, fresh for each run', [], 600, { expire: expire.onComplete() }),
  step('LoadRegions', 'Reads the region table', [], 200),
  step('CleanSales', 'Drops rows without a customer', ['LoadSales'], 500),
  step('JoinPrices', 'Prices each sale', ['CleanSales', 'LoadPrices'], 300),
  step('TotalsByRegion', 'Sums sales by region', ['JoinPrices', 'LoadRegions'], 400),
  step('FetchWeather', 'Calls the weather service', [], 350, { fail: 'weather service answered 503' }),
  step('Forecast', 'Forecasts next month from sales and weather', ['TotalsByRegion', 'FetchWeather'], 300),
  step('Report', 'Writes the monthly report', ['TotalsByRegion', 'Forecast'], 150),
);

try {
  const run = await pipeline.execute({ progress: false }).then(
    (report) => report.toJSON(),
    (error: unknown) => {
      if (error instanceof PipelineRunError) return error.report.toJSON();
      throw error;
    },
  );
  // The next run, told to skip the broken feed: every state but running and cancelled shows.
  const view = graphViewFromPlan(pipeline.tasks, await pipeline.plan({ skip: ['FetchWeather'] }));
  const file = path.join(folder, 'sales.html');
  fs.writeFileSync(file, htmlPage({ graph: view, run, title: 'Sales' }));

  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: run bash scripts/setup-test-tools.sh first.`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1180, height: 900 }, deviceScaleFactor: 2 });
    await page.goto(pathToFileURL(file).href);
    fs.mkdirSync(docs, { recursive: true });
    await page.locator('section.graph').screenshot({ path: path.join(docs, 'graph.png') });
    await page.locator('section.timeline').screenshot({ path: path.join(docs, 'timeline.png') });
  } finally {
    await browser.close();
  }
  console.log(`Wrote ${path.join(docs, 'graph.png')} and ${path.join(docs, 'timeline.png')}`);
} finally {
  await pipeline.close();
  fs.rmSync(folder, { recursive: true, force: true });
}
