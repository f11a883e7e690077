// The sample pipeline for the command line: `npx littlepipes run`, `plan`, `graph`, `shell`.
// package.json names this module ("littlepipes": { "pipeline": "samples/pipeline.ts" }).
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task, expire } from 'littlepipes';

interface Sale {
  region: string;
  product: string;
  amount: number;
}

const orders = new Task('Orders', { description: 'Fetches the orders of the month (simulated: 300 ms).' })
  .process('run', async (t) => {
    await sleep(300, undefined, { signal: t.signal });
    const regions = ['north', 'south', 'east', 'west'];
    return Array.from({ length: 400 }, (_, i): Sale => ({ region: regions[i % 4]!, product: `p${i % 7}`, amount: ((i * 37) % 100) + 1 }));
  });

const rates = new Task('Rates', { description: 'Today\'s exchange rates; they expire at midnight.', expire: expire.atMidnight() })
  .process('run', async (t) => {
    await sleep(200, undefined, { signal: t.signal });
    const byRegion: Record<string, number> = { north: 1, south: 1.1, east: 0.9, west: 1.05 };
    return byRegion;
  });

// Dependencies given as the tasks themselves: t.result(orders) is typed Sale[], and so on down.
const clean = new Task('Clean', { dependencies: [orders], params: { minimumAmount: 5 }, description: 'Drops orders below the minimum amount.' })
  .process('run', (t) => t.result(orders).filter((sale) => sale.amount >= t.params.minimumAmount));

const byRegion = new Task('ByRegion', { dependencies: [clean, rates], description: 'Converted totals per region.' })
  .process('run', (t) => {
    const exchange = t.result(rates);
    const totals: Record<string, number> = {};
    for (const sale of t.result(clean)) totals[sale.region] = (totals[sale.region] ?? 0) + sale.amount * (exchange[sale.region] ?? 1);
    return totals;
  });

const topProducts = new Task('TopProducts', { dependencies: [clean], description: 'The three best-selling products.' })
  .process('run', async (t) => {
    await sleep(150, undefined, { signal: t.signal });
    const totals = new Map<string, number>();
    for (const sale of t.result(clean)) totals.set(sale.product, (totals.get(sale.product) ?? 0) + sale.amount);
    return [...totals].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([product]) => product);
  });

const report = new Task('Report', { dependencies: [byRegion, topProducts], description: 'One paragraph for the team.' })
  .process('run', (t) => {
    const lines = Object.entries(t.result(byRegion)).map(([region, total]) => `${region}: ${total.toFixed(0)}`);
    return `Sales by region: ${lines.join(', ')}. Top products: ${t.result(topProducts).join(', ')}.`;
  });

export const pipeline = new Pipeline('Sales').add(orders, rates, clean, byRegion, topProducts, report);
