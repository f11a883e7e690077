// t.params is typed from the declared params: each value keeps its JSON type, read-only.
import { Task } from 'littlepipes';
import { expectType } from './expect.js';

new Task('Filter', { params: { minimum: 10, regions: ['north'], range: { from: 1, to: 5 }, limit: null, tags: [] } }).process('run', (t) => {
  expectType<number>()(t.params.minimum);
  expectType<readonly string[]>()(t.params.regions);
  expectType<number>()(t.params.range.to);
  // A number, not the literal 10: a profile may give another.
  const other: typeof t.params.minimum = 20;
  // @ts-expect-error params are frozen
  t.params.minimum = 3;
  // @ts-expect-error so are their arrays
  t.params.regions.push('south');
  // @ts-expect-error a param the task does not declare
  t.params.maximum;
  // @ts-expect-error a number param is not a string
  t.params.minimum.toUpperCase();
  // A declared null or empty array says nothing of what may come: any JSON there.
  const limit: string | number | boolean | null | object = t.params.limit;
  const tag: unknown = t.params.tags[0];
  return t.params.minimum + 1 + other + String(limit) + String(tag);
});

// Params the compiler cannot read are JSON values by name, as before.
function filter(params: Record<string, unknown>) {
  return new Task('Loose', { params }).process('run', (t) => t.params.anything);
}
filter({ minimum: 1 });

// No params: t.params by name, each possibly undefined.
new Task('None').process('run', (t) => {
  const value: unknown = t.params.anything;
  return value === undefined;
});
