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
    return { north: 1, south: 1.1, east: 0.9, west: 1.05 } as Record<string, number>;
  });

const clean = new Task('Clean', { dependencies: ['Orders'], params: { minimumAmount: 5 }, description: 'Drops orders below the minimum amount.' })
  .process('run', (t) => t.result<Sale[]>('Orders').filter((sale) => sale.amount >= (t.params.minimumAmount as number)));

const byRegion = new Task('ByRegion', { dependencies: ['Clean', 'Rates'], description: 'Converted totals per region.' })
  .process('run', (t) => {
    const rates = t.result<Record<string, number>>('Rates');
    const totals: Record<string, number> = {};
    for (const sale of t.result<Sale[]>('Clean')) totals[sale.region] = (totals[sale.region] ?? 0) + sale.amount * (rates[sale.region] ?? 1);
    return totals;
  });

const topProducts = new Task('TopProducts', { dependencies: ['Clean'], description: 'The three best-selling products.' })
  .process('run', async (t) => {
    await sleep(150, undefined, { signal: t.signal });
    const totals = new Map<string, number>();
    for (const sale of t.result<Sale[]>('Clean')) totals.set(sale.product, (totals.get(sale.product) ?? 0) + sale.amount);
    return [...totals].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([product]) => product);
  });

const report = new Task('Report', { dependencies: ['ByRegion', 'TopProducts'], description: 'One paragraph for the team.' })
  .process('run', (t) => {
    const totals = t.result<Record<string, number>>('ByRegion');
    const lines = Object.entries(totals).map(([region, total]) => `${region}: ${total.toFixed(0)}`);
    return `Sales by region: ${lines.join(', ')}. Top products: ${t.result<string[]>('TopProducts').join(', ')}.`;
  });

export const pipeline = new Pipeline('Sales').add(orders, rates, clean, byRegion, topProducts, report);
