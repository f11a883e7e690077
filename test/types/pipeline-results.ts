// getResult is typed by the tasks the pipeline's type knows, and a name that is none of theirs is
// an error: in one chain, with the tasks option, and with add()'s result kept. A name the compiler
// cannot know (a string) is unknown; a pipeline whose type knows no task takes any name, unknown.
import { Pipeline, Task } from 'littlepipes';
import { expectType } from './expect.js';

const one = new Task('TaskOne').process('run', () => 1);
const two = new Task('TaskTwo').process('run', async () => ['a']);
const sum = new Task('Sum', { dependencies: [one, two] }).process('run', (t) => t.result(one) + t.result(two).length);

export async function oneChain(): Promise<void> {
  const pipeline = new Pipeline('Chained').add(one, two).add(sum);
  expectType<number>()(await pipeline.getResult('Sum'));
  expectType<string[]>()(await pipeline.getResult('TaskTwo'));
  // @ts-expect-error no task is named Nope
  await pipeline.getResult('Nope');
  // @ts-expect-error Sum's result is a number
  const text: string = await pipeline.getResult('Sum');
  return void text;
}

export async function tasksOption(): Promise<void> {
  // The tasks defined in statements of their own, the pipeline made of them once.
  const pipeline = new Pipeline('Listed', { tasks: [one, two, sum] });
  expectType<number>()(await pipeline.getResult('Sum'));
  // @ts-expect-error a misspelt task
  await pipeline.getResult('Summ');
}

export async function addKept(): Promise<void> {
  // add() returns the pipeline with the added tasks in its type: keep what it returns.
  const base = new Pipeline('Grown', { tasks: [one, two] });
  const grown = base.add(sum);
  expectType<number>()(await grown.getResult('Sum'));
  expectType<number>()(await grown.getResult('TaskOne'));
  // The pipeline before the add does not know Sum.
  // @ts-expect-error Sum was added to what base.add() returned
  await base.getResult('Sum');
}

export async function replaced(): Promise<void> {
  const pipeline = new Pipeline('Edited', { tasks: [one, sum] }).replace(new Task('TaskOne').process('run', () => 'one'));
  expectType<string>()(await pipeline.getResult('TaskOne'));
  expectType<number>()(await pipeline.getResult('Sum'));
}

export async function unknownNames(name: string): Promise<void> {
  const pipeline = new Pipeline('Named', { tasks: [one, sum] });
  // A name from the command line: allowed, typed unknown.
  expectType<unknown>()(await pipeline.getResult(name));
  // A pipeline whose type knows no task (its tasks added in statements): any name, unknown.
  const statements = new Pipeline('Statements');
  statements.add(one);
  expectType<unknown>()(await statements.getResult('TaskOne'));
  // A plain Pipeline (a function's parameter, a pipeline loaded from a module) knows no task: any name, unknown.
  const loaded: Pipeline = pipeline;
  expectType<unknown>()(await loaded.getResult('Whatever'));
}

// A pipeline whose type knows its tasks passes where a plain Pipeline is expected, and where one
// that knows fewer is; not where one that knows a task it lacks is.
function describe(pipeline: Pipeline): string {
  return pipeline.name;
}
describe(new Pipeline('Passed', { tasks: [one, two, sum] }));
const fewer: Pipeline<typeof one> = new Pipeline('Fewer', { tasks: [one, sum] });
// @ts-expect-error this pipeline has no Sum
const more: Pipeline<typeof sum> = new Pipeline('More', { tasks: [one] });
export { fewer, more };
