import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Queue as BullQueue, QueueEvents as BullQueueEvents } from 'bullmq';
import type { StoredValue } from '../../cache/entry.js';
import type { ResultStore } from '../../cache/store.js';
import { ExecutorError } from '../../errors.js';
import type { AnyTask } from '../../task.js';
import { type ExecutorCall, RemoteResult, type TaskExecutor, mustStayLocal } from './executor.js';
import { type TaskJob, type TaskJobOutcome, arrivedError, cancelChannel, queueName } from './job.js';
import { importOptional } from './optional-package.js';
import { connectRedis } from './redis-connection.js';

export interface BullmqExecutorOptions {
  /** The Redis URL of the BullMQ queue. */
  connection: string;
  /** The pipeline's namespace in its (shared) store: names the queue, and workers check it. */
  namespace: string;
  pipeline: string;
  store: ResultStore;
}

interface Waiting {
  task: string;
  call: ExecutorCall;
  resolve(result: RemoteResult): void;
  reject(error: Error): void;
}

/**
 * Sends each task it takes as a BullMQ job to the workers (`littlepipes worker`) on the same
 * queue, and resolves with where the worker stored the result. One job is one attempt: the
 * task's own retries and timeout are the runner's, here; BullMQ only moves a job whose worker
 * died (a stalled job) to another worker.
 */
export async function openBullmqExecutor(options: BullmqExecutorOptions): Promise<TaskExecutor> {
  const { Queue, QueueEvents } = await importOptional<typeof import('bullmq')>('bullmq', 'bullmq');
  const connection = await connectRedis(options.connection, `execute({ executor: 'bullmq' }) for ${options.pipeline}`);
  const name = queueName(options.namespace);
  const coordinator = `${os.hostname()}:${process.pid}`;
  const prefix = randomUUID();
  let jobs = 0;
  const waiting = new Map<string, Waiting>();
  let queue: BullQueue | undefined;
  let events: BullQueueEvents | undefined;
  try {
    queue = new Queue(name, { connection });
    events = new QueueEvents(name, { connection });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  } catch (error) {
    await Promise.allSettled([queue?.close(), events?.close()]);
    connection.disconnect();
    throw new ExecutorError('bullmq', `Cannot open the BullMQ queue ${name} at ${options.connection}: ${(error as Error).message}.`, { cause: error });
  }
  const openQueue = queue;
  if ((await openQueue.getWorkersCount().catch(() => 1)) === 0) {
    process.emitWarning(`No littlepipes worker is on the queue ${name} (${options.connection}); tasks wait until one starts: littlepipes worker --pipeline FILE --connection ${options.connection}`, { code: 'LITTLEPIPES_NO_WORKERS' });
  }
  events.on('completed', ({ jobId, returnvalue }) => {
    const job = waiting.get(jobId);
    if (!job) return;
    waiting.delete(jobId);
    const outcome = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as TaskJobOutcome;
    for (const timing of outcome.timings) job.call.timings.set(timing.name, timing);
    if (outcome.ok) job.resolve(new RemoteResult(outcome.stored, outcome.worker, outcome.logFile));
    else job.reject(arrivedError(outcome.error));
  });
  events.on('failed', ({ jobId, failedReason }) => {
    const job = waiting.get(jobId);
    if (!job) return;
    waiting.delete(jobId);
    job.reject(new ExecutorError('bullmq', `${job.task}: no worker could finish its job on ${name}: ${failedReason}`));
  });

  /** Stops a job: taken off the queue if no worker has it yet, else the worker aborts its task's signal. */
  const cancel = (id: string) => {
    void openQueue.remove(id).catch(() => {});
    void connection.publish(cancelChannel(name), id).catch(() => {});
  };

  return {
    name: 'bullmq',
    takes: (task: AnyTask) => mustStayLocal(task) === undefined,
    async run(call: ExecutorCall): Promise<RemoteResult> {
      const { task } = call;
      const upstream: TaskJob['upstream'] = {};
      let readsEntries = false;
      for (const dependency of task.dependencies) {
        const { hash, value } = call.upstreamStored(dependency);
        if (value && 'ref' in value) upstream[dependency] = { hash, value: value as StoredValue };
        else {
          upstream[dependency] = { hash };
          readsEntries = true;
        }
      }
      // A worker reading an entry must find it committed (entries are written behind the run).
      if (readsEntries) await options.store.flush();
      const { code, options: optionsHash, params } = call.definition;
      const job: TaskJob = {
        task: task.name,
        namespace: options.namespace,
        coordinator,
        attempt: call.attempt,
        definition: { code, options: optionsHash, ...(params === undefined ? {} : { params }) },
        dependencies: [...task.dependencies],
        requires: [...task.requires],
        params: task.params as TaskJob['params'],
        upstream,
      };
      const id = `${prefix}-${++jobs}`;
      return new Promise<RemoteResult>((resolve, reject) => {
        if (call.signal.aborted) return reject(call.signal.reason);
        const onAbort = () => {
          if (!waiting.delete(id)) return;
          cancel(id);
          reject(call.signal.reason);
        };
        call.signal.addEventListener('abort', onAbort, { once: true });
        const settle = <T>(done: (value: T) => void) => (value: T) => {
          call.signal.removeEventListener('abort', onAbort);
          done(value);
        };
        waiting.set(id, { task: task.name, call, resolve: settle(resolve), reject: settle(reject) });
        openQueue.add(task.name, job, { jobId: id, attempts: 1, removeOnComplete: true, removeOnFail: true }).catch((error: unknown) => {
          if (!waiting.delete(id)) return;
          reject(new ExecutorError('bullmq', `${task.name}: cannot queue its job on ${name}: ${(error as Error).message}`, { cause: error }));
        });
      });
    },
    async close(): Promise<void> {
      for (const [id, job] of waiting) {
        cancel(id);
        job.reject(new ExecutorError('bullmq', `${job.task}: the run ended before its job did.`));
      }
      waiting.clear();
      await Promise.allSettled([events.close(), openQueue.close()]);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
