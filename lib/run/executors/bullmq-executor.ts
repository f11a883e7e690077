import { cryptoModule } from '../../deferred-packages.js';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue as BullQueue, QueueEvents as BullQueueEvents } from 'bullmq';
import type { StoredValue } from '../../cache/entry.js';
import { redactUrl } from '../../cache/backends/shared-store.js';
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

/**
 * How long the coordinator waits for a lost Redis to come back before it fails the tasks whose
 * jobs are out: their workers cannot report back meanwhile, and ioredis would otherwise retry for
 * ever, so the run would never end. Long enough for a restart or a failover.
 */
export const REDIS_LOST_LIMIT_MS = 10_000;

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
  const connection = await connectRedis(options.connection, `The bullmq executor of ${options.pipeline}`);
  const name = queueName(options.namespace);
  const coordinator = `${os.hostname()}:${process.pid}`;
  const prefix = cryptoModule().randomUUID();
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
    throw new ExecutorError('bullmq', `Cannot open the BullMQ queue ${name} at ${redactUrl(options.connection)}: ${(error as Error).message}.`, { cause: error });
  }
  const openQueue = queue;
  if ((await openQueue.getWorkersCount().catch(() => 1)) === 0) {
    process.emitWarning(`No littlepipes worker is on the queue ${name} (${redactUrl(options.connection)}); tasks wait until one starts: littlepipes worker --pipeline FILE --connection ${redactUrl(options.connection)}`, { code: 'LITTLEPIPES_NO_WORKERS' });
  }
  // Redis lost: the jobs out fail after REDIS_LOST_LIMIT_MS, and new ones at once, until it is back.
  let lost: ExecutorError | undefined;
  let lostTimer: NodeJS.Timeout | undefined;
  let closing = false;
  const failWaiting = (error: ExecutorError) => {
    for (const [id, job] of waiting) {
      waiting.delete(id);
      cancel(id); // Sent when Redis is back, so that no worker takes the job after all.
      job.reject(error);
    }
  };
  // Their own errors are the connection's, which reconnects: a lost Redis is reported below, once.
  let lastError: Error | undefined;
  connection.on('error', (error: Error) => void (lastError = error));
  queue.on('error', () => {});
  events.on('error', () => {});
  connection.on('close', () => {
    if (closing) return;
    lostTimer ??= setTimeout(() => {
      const why = lastError ? ` (${lastError.message})` : '';
      lost = new ExecutorError('bullmq', `lost the connection to Redis at ${redactUrl(options.connection)}${why} for ${REDIS_LOST_LIMIT_MS / 1000} s, so its job cannot report back. Bring Redis back, then run again: what finished is cached.`);
      failWaiting(lost);
    }, REDIS_LOST_LIMIT_MS);
  });
  connection.on('ready', () => {
    clearTimeout(lostTimer);
    lostTimer = undefined;
    lost = undefined;
  });
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
  // One abort listener per signal (most attempts share the run's), however many of its jobs are out.
  const bySignal = new WeakMap<AbortSignal, Set<string>>();
  const watch = (signal: AbortSignal, id: string) => {
    let ids = bySignal.get(signal);
    if (!ids) {
      const watched = new Set<string>();
      ids = watched;
      bySignal.set(signal, watched);
      signal.addEventListener('abort', () => {
        for (const aborted of watched) {
          const job = waiting.get(aborted);
          if (!job) continue;
          waiting.delete(aborted);
          cancel(aborted);
          job.reject(signal.reason);
        }
      }, { once: true });
    }
    ids.add(id);
  };
  // Jobs queued in one turn of the event loop go to Redis in one addBulk.
  let batch: { name: string; data: TaskJob; opts: { jobId: string; attempts: number; removeOnComplete: boolean; removeOnFail: boolean } }[] = [];
  const sendBatch = () => {
    const sending = batch;
    batch = [];
    openQueue.addBulk(sending).catch((error: unknown) => {
      for (const { opts } of sending) {
        const job = waiting.get(opts.jobId);
        if (!job) continue;
        waiting.delete(opts.jobId);
        job.reject(new ExecutorError('bullmq', `${job.task}: cannot queue its job on ${name}: ${(error as Error).message}`, { cause: error }));
      }
    });
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
        if (lost) return reject(lost);
        const forget = () => bySignal.get(call.signal)?.delete(id);
        waiting.set(id, {
          task: task.name,
          call,
          resolve: (result) => (forget(), resolve(result)),
          reject: (error) => (forget(), reject(error)),
        });
        watch(call.signal, id);
        if (batch.length === 0) setImmediate(sendBatch);
        batch.push({ name: task.name, data: job, opts: { jobId: id, attempts: 1, removeOnComplete: true, removeOnFail: true } });
      });
    },
    async close(): Promise<void> {
      for (const [id, job] of waiting) {
        cancel(id);
        job.reject(new ExecutorError('bullmq', `${job.task}: the run ended before its job did.`));
      }
      waiting.clear();
      const redisLost = lostTimer !== undefined;
      closing = true;
      clearTimeout(lostTimer);
      if (redisLost) {
        // Without Redis, closing waits for it to come back: let go of the connection instead.
        connection.disconnect();
        await Promise.race([Promise.allSettled([events.close(), openQueue.close()]), sleep(1000, undefined, { ref: false })]);
        return;
      }
      await Promise.allSettled([events.close(), openQueue.close()]);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
