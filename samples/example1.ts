import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task, expire } from 'littlepipes';

const task1 = new Task('TaskOne').process('run', async () => { await sleep(100); return 1; });

const task2 = new Task('TaskTwo')
  .process('extract', async () => { await sleep(1500); return 1; })
  .process('transform', async (t, ext: number) => { await sleep(1000); return ext + 1; })
  .process('run', async (t) => t.transform(await t.extract()));

const task3 = new Task('TaskThree', { expire: expire.onComplete() })
  .process('run', async () => { await sleep(300); return 3; });

// Given as tasks, the dependencies type t.result: each is a number here, without an annotation.
const sum = new Task('Sum', { dependencies: [task1, task2, task3] })
  .process('run', (t) => t.result(task1) + t.result(task2) + t.result(task3));

const pipeline = new Pipeline('Example1').add(task1, task2, task3, sum); // order does not matter
await pipeline.execute();
console.log('Final Result:', await pipeline.getResult('Sum')); // a number
