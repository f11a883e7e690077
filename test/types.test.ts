import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pipeline, Task } from '../lib/index.js';
import { testPipeline } from './helpers.js';

/** Compile-time equality: `expectType<Expected>()(value)` fails to type-check when the types differ. */
function expectType<Expected>() {
  return <Actual extends Expected>(value: Actual & ([Expected] extends [Actual] ? unknown : never)) => value;
}

// These checks run in `npm test` through `tsc` (the typecheck step): a wrong type fails the build.
const typed = new Task('Typed')
  .process('extract', async () => [1, 2, 3])
  .process('transform', (t, rows: number[], factor: number) => rows.map((row) => row * factor))
  .process('run', async (t) => {
    const rows = await t.extract();
    expectType<number[]>()(rows);
    // @ts-expect-error transform needs its second argument
    t.transform(rows);
    return t.transform(rows, 2).join(',');
  });

const counted = new Task('Counted').process('run', () => 42);

test('result types accumulate through chained add(), so getResult is typed', async () => {
  const pipeline = testPipeline() as unknown as Pipeline;
  const chained = pipeline.add(typed).add(counted);
  await chained.execute({ progress: false });
  const text = await chained.getResult('Typed');
  const count = await chained.getResult('Counted');
  expectType<string>()(text);
  expectType<number>()(count);
  // @ts-expect-error a number result is not a string
  const wrong: string = await chained.getResult('Counted');
  assert.equal(text, '2,4,6');
  assert.equal(count, 42);
  assert.equal(wrong, 42);
  // A name the pipeline's type does not know is still allowed, typed unknown.
  expectType<unknown>()(await chained.getResult('Counted' as string).catch(() => undefined));
});

test('the context of a chained process keeps its own members typed beside the processes', async () => {
  const members = new Task('Members').process('shout', (t, word: string) => `${word}!`).process('run', (t) => {
    expectType<string>()(t.name);
    expectType<AbortSignal>()(t.signal);
    return t.shout(t.name.toLowerCase());
  });
  const pipeline = testPipeline().add(members);
  await pipeline.execute({ progress: false });
  const result = await pipeline.getResult('Members');
  expectType<string>()(result);
  assert.equal(result, 'members!');
});
