// t.result is typed by the dependency list: a Task given there types its result; a name outside
// a literal list is an error; t.result<T> is the escape hatch for a dependency given by name only.
import { Task, anyOf } from 'littlepipes';
import { expectType } from './expect.js';

const one = new Task('TaskOne').process('run', () => 1);
const two = new Task('TaskTwo').process('run', async () => ['a', 'b']);

new Task('Sum', { dependencies: [one, two, 'TaskThree'] }).process('run', (t) => {
  // A task given as itself: its result, by the task or by its name, without an annotation.
  expectType<number>()(t.result(one));
  expectType<number>()(t.result('TaskOne'));
  expectType<string[]>()(t.result('TaskTwo'));
  // A task given by name: unknown, and the annotation is the escape hatch.
  expectType<unknown>()(t.result('TaskThree'));
  expectType<Date>()(t.result<Date>('TaskThree'));
  // An annotation may repeat a known type, or widen it...
  expectType<number>()(t.result<number>('TaskOne'));
  expectType<number | string>()(t.result<number | string>('TaskOne'));
  // ...but not change it.
  // @ts-expect-error TaskOne's result is a number
  t.result<string>('TaskOne');
  // @ts-expect-error a misspelt dependency
  t.result('TaskOen');
  // @ts-expect-error a misspelt dependency, annotated
  t.result<number>('TaskOen');
  // @ts-expect-error a task that is not a dependency
  t.result(new Task('Other').process('run', () => 0));
  return t.result(one) + t.result(two).length;
});

// No dependencies: t.result of anything is an error.
new Task('Alone').process('run', (t) => {
  // @ts-expect-error Alone has no dependencies
  t.result('TaskOne');
  return 0;
});

// requires passes no result.
new Task('Query', { requires: [one] }).process('run', (t) => {
  // @ts-expect-error a required task's result is not passed
  t.result(one);
  return t.has(one);
});

// anyOf: members given as tasks are typed, members given by name are not.
new Task('Either', { dependencies: [anyOf(one, 'LoadSample')] }).process('run', (t) => {
  expectType<number>()(t.result(one));
  expectType<unknown>()(t.result('LoadSample'));
  // @ts-expect-error not a member of the gate
  t.result('LoadFull');
  return t.has(one) ? t.result(one) : t.result<number>('LoadSample');
});

// A list the compiler cannot read (a string[]) allows every name, typed unknown.
const names: string[] = ['TaskOne'];
new Task('Loose', { dependencies: names }).process('run', (t) => {
  expectType<unknown>()(t.result('Anything'));
  expectType<number>()(t.result<number>('Anything'));
  return 0;
});

// The result type carries on down the chain: a dependent of a dependent.
const doubled = new Task('Doubled', { dependencies: [one] }).process('run', (t) => t.result(one) * 2);
new Task('Report', { dependencies: [doubled] }).process('run', (t) => {
  expectType<number>()(t.result(doubled));
  return `${t.result('Doubled')}`;
});

// The processes of a task see the same typed t.
new Task('Steps', { dependencies: [two] })
  .process('first', (t) => t.result(two)[0])
  .process('run', (t) => {
    expectType<string | undefined>()(t.first());
    return t.first() ?? '';
  });

// A task that maps returns the array of its items' results.
const files = new Task('Files').process('run', () => ['a.csv', 'b.csv']);
const sizes = new Task('Sizes', { dependencies: [files], map: { over: 'Files' } }).process('run', (t, file: string) => file.length);
new Task('Total', { dependencies: [sizes] }).process('run', (t) => {
  expectType<number[]>()(t.result(sizes));
  return t.result(sizes).reduce((sum, size) => sum + size, 0);
});
