// A small analyst project: monthly sales CSVs summarised per file (a map), loaded into DuckDB by
// SQL tasks (a stage with two branches), checked (an optional QA group), charted by a Python
// script (a command task) and written up as a report. Run it from this folder:
//   npx littlepipes run --pipeline pipeline.ts --profile quick
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import * as aq from 'arquero';
import { Pipeline, Task, anyOf, commandTask, sqlTask } from 'littlepipes';

interface MonthSummary {
  file: string;
  orders: number;
  revenue: number;
}

interface RegionRevenue {
  region: string;
  revenue: number;
}

const files = new Task('Files', { inputs: 'data/sales-*.csv', description: 'The monthly sales files.' })
  .process('run', (t) => [...t.inputs].sort());

const monthSummary = new Task('MonthSummary', { dependencies: [files], map: { over: 'Files' }, description: 'Orders and revenue of each month, one file at a time.' })
  .process('run', (t, file: string): MonthSummary => {
    const [, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
    const revenue = lines.reduce((sum, line) => {
      const [, , , units, price] = line.split(',');
      return sum + Number(units) * Number(price);
    }, 0);
    return { file, orders: lines.length, revenue: Math.round(revenue * 100) / 100 };
  });

// A table as a result: cached as Arrow IPC, and handed to Report as an arquero table again.
const months = new Task('Months', { dependencies: [monthSummary], description: 'The months as an arquero table, with the revenue per order.' })
  .process('run', (t) => aq.from(t.result(monthSummary).map((month) => ({ ...month, perOrder: Math.round((month.revenue / month.orders) * 100) / 100 }))).orderby('file'));

const loadAll = sqlTask('LoadAll', 'sql/load-all.sql', { stage: 'datasets', inputs: 'data/sales-*.csv', description: 'Every month into DuckDB.' });
const loadLatest = sqlTask('LoadLatest', 'sql/load-latest.sql', { stage: 'datasets', inputs: 'data/sales-2026-03.csv', description: 'The latest month into DuckDB.' });

const table = (t: { has(task: typeof loadAll): boolean }) => (t.has(loadAll) ? 'sales_all' : 'sales_latest');

const checkUnits = new Task('CheckUnits', { dependencies: [anyOf(loadAll, loadLatest)], optional: 'qa', uses: ['db'], description: 'No sale has a negative number of units.' })
  .process('run', async (t) => {
    const reader = await t.use<DuckDBConnection>('db').runAndReadAll(`SELECT count(*)::INTEGER AS bad FROM ${table(t)} WHERE units < 0`);
    const bad = Number(reader.getRowObjects()[0]!.bad);
    if (bad > 0) throw new Error(`${bad} sales have negative units`);
    return 'no negative units';
  });

const byRegion = new Task('ByRegion', { dependencies: [anyOf(loadAll, loadLatest)], requires: [checkUnits], uses: ['db'], description: 'Revenue per region.' })
  .process('run', async (t): Promise<RegionRevenue[]> => {
    const reader = await t.use<DuckDBConnection>('db').runAndReadAll(
      `SELECT region, round(sum(units * unit_price), 2)::DOUBLE AS revenue FROM ${table(t)} GROUP BY region ORDER BY region`,
    );
    return reader.getRowObjects().map((row) => ({ region: String(row.region), revenue: Number(row.revenue) }));
  });

const chart = commandTask('Chart', ['python3', 'scripts/chart.py'], {
  dependencies: [byRegion],
  outputs: 'out/chart.txt',
  params: { width: 40 },
  description: 'A text bar chart of revenue by region (Python).',
});

const report = new Task('Report', { dependencies: [byRegion, months, chart], outputs: 'out/report.md', params: { title: 'Sales by region' }, description: 'The write-up.' })
  .process('run', (t) => {
    // arquero's objects() are untyped rows: the one cast, of arquero's making.
    const rows = t.result(months).objects() as (MonthSummary & { perOrder: number })[];
    const lines = rows.map((month) => `- ${month.file}: ${month.orders} orders, ${month.revenue.toFixed(2)} (${month.perOrder.toFixed(2)} per order)`);
    const text = `# ${t.params.title}\n\n${lines.join('\n')}\n\n\`\`\`\n${fs.readFileSync('out/chart.txt', 'utf8')}\`\`\`\n`;
    fs.writeFileSync('out/report.md', text);
    return t.result(byRegion);
  });

export const pipeline = new Pipeline('Analysis', { config: fileURLToPath(new URL('littlepipes.yaml', import.meta.url)) })
  .provide('db', async () => {
    const folder = fileURLToPath(new URL('.littlepipes/', import.meta.url));
    fs.mkdirSync(folder, { recursive: true });
    return (await DuckDBInstance.create(`${folder}analysis.duckdb`)).connect();
  })
  .add(files, monthSummary, months, loadAll, loadLatest, checkUnits, byRegion, chart, report);
