// The pipeline of the BullMQ overhead bench: 1,000 independent no-op tasks, results in the
// shared Redis of LITTLEPIPES_BENCH_REDIS. The coordinator and `littlepipes worker` load it alike.
import KeyvRedis from '@keyv/redis';
import { Pipeline, Task } from 'littlepipes';

export const TASKS = 1000;
const tasks = [];
for (let i = 0; i < TASKS; i++) tasks.push(new Task(`N${i}`).process('run', () => i));

export const pipeline = new Pipeline('NoOps', { store: new KeyvRedis(process.env.LITTLEPIPES_BENCH_REDIS), project: 'bench', logLevel: 'silent' }).add(...tasks);
