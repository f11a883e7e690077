import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, Task, expire } from 'littlepipes';

const task1 = new Task('TaskOne').process('run', async () => { await sleep(100); return 1; });

const task2 = new Task('TaskTwo')
  .process('extract', async () => { await sleep(1500); return 1; })
  .process('transform', async (t, ext: number) => { await sleep(1000); return ext + 1; })
  .process('run', async (t) => t.transform(await t.extract()));

const task3 = new Task('TaskThree', { expire: expire.onComplete() })
  .process('run', async () => { await sleep(300); return 3; });

const sum = new Task('Sum', { dependencies: ['TaskOne', 'TaskTwo', 'TaskThree'] })
  .process('run', (t) => t.result<number>('TaskOne') + t.result<number>('TaskTwo') + t.result<number>('TaskThree'));

const pipeline = new Pipeline('Example1');
pipeline.add(task1, task2, task3, sum); // order does not matter
await pipeline.execute();
console.log('Final Result:', await pipeline.getResult('Sum'));
