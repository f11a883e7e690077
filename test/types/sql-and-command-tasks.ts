// sqlTask<Row>() and commandTask<Result>() carry their result types to the tasks that depend on them.
import { Task, commandTask, rTask, sqlTask, type SqlRow } from 'littlepipes';
import { expectType } from './expect.js';

interface Total {
  region: string;
  total: number;
}

const totals = sqlTask<Total>()('Totals', 'sql/totals.sql', { params: { year: 2024 } });
const loaded = sqlTask<Total>()('Load', 'sql/load.sql', { result: 'none' });
const untyped = sqlTask('Untyped', 'sql/untyped.sql');
const tiles = commandTask<{ tiles: number }>()('Tile', ['python3', 'tile.py'], { result: 'json' });
const printed = commandTask('Print', ['echo', 'hi']);
const fit = rTask<{ slope: number }>()('Fit', 'r/fit.R', { result: 'json' });

new Task('Report', { dependencies: [totals, loaded, untyped, tiles, printed, fit] }).process('run', (t) => {
  expectType<Total[]>()(t.result(totals));
  expectType<Total[]>()(t.result('Totals'));
  expectType<undefined>()(t.result(loaded));
  expectType<SqlRow[]>()(t.result(untyped));
  expectType<{ tiles: number }>()(t.result(tiles));
  expectType<string>()(t.result(printed));
  expectType<{ slope: number }>()(t.result(fit));
  // @ts-expect-error the rows are Totals
  const wrong: string[] = t.result(totals);
  return t.result(totals).map((row) => `${row.region}: ${row.total}`).concat(wrong);
});

// The typed forms need the JSON result they type.
// @ts-expect-error commandTask<Result>() types a JSON result: result: 'json' is required
commandTask<{ tiles: number }>()('Tile', ['python3', 'tile.py']);
// @ts-expect-error and so does rTask<Result>()
rTask<{ slope: number }>()('Fit', 'r/fit.R', { result: 'stdout' });
