import type { Job } from 'bullmq';
import { refreshCodeAnalysis } from '../../fingerprint/definition.js';
import { type TaskJob, type TaskJobOutcome, cancelChannel, queueName } from './job.js';
import { importOptional } from './optional-package.js';
import { connectRedis } from './redis-connection.js';
import { WORKER_ID, type WorkerParts, runTaskJob } from './remote-task.js';

export interface WorkerOptions {
  /** The Redis URL of the queue. */
  connection: string;
  /** Jobs run at once in this process. */
  concurrency: number;
  /**
   * How long the worker may go without renewing its hold on a job before the job goes to another
   * worker (BullMQ's lockDuration; stalled jobs are looked for twice as often). A task that keeps
   * the event loop busy for longer than this without a pause is taken for dead.
   */
  stallMs: number;
}

/** A worker process's hold on its queue. */
export interface RunningWorker {
  /** `host:pid`. */
  readonly id: string;
  /** The queue it takes jobs from. */
  readonly queue: string;
  /** Finishes the jobs it is running, then lets go of the queue (the pipeline's store is its owner's to close). */
  close(): Promise<void>;
}

/** How many times a job whose worker died is given to another worker before it fails. */
const MAX_STALLS = 3;

/**
 * Takes the jobs of a pipeline's queue and runs their tasks (see runTaskJob) until closed. A
 * worker that dies mid-task stops renewing its job's lock; another worker's stalled-job check
 * then moves the job back to the queue, and another worker runs it.
 */
export async function startWorker(parts: WorkerParts, options: WorkerOptions): Promise<RunningWorker> {
  const { Worker } = await importOptional<typeof import('bullmq')>('bullmq', 'bullmq');
  // The code as loaded: fingerprints compare what this process runs with what the coordinator runs.
  await refreshCodeAnalysis();
  const connection = await connectRedis(options.connection, 'littlepipes worker');
  const name = queueName(parts.namespace);
  const worker = new Worker<TaskJob, TaskJobOutcome>(
    name,
    (job: Job<TaskJob>, _token?: string, signal?: AbortSignal) => runTaskJob(parts, job.data, signal ?? new AbortController().signal),
    {
      connection,
      concurrency: options.concurrency,
      lockDuration: options.stallMs,
      stalledInterval: Math.max(100, Math.floor(options.stallMs / 2)),
      maxStalledCount: MAX_STALLS,
      name: WORKER_ID,
      autorun: false,
    },
  );
  worker.on('error', (error) => process.emitWarning(`littlepipes worker ${WORKER_ID}: ${error.message}`));
  // A coordinator whose run was cancelled, or whose attempt timed out, asks for the job's signal to abort.
  const subscriber = connection.duplicate();
  subscriber.on('error', () => {});
  await subscriber.subscribe(cancelChannel(name));
  subscriber.on('message', (_channel: string, jobId: string) => void worker.cancelJob(jobId, 'cancelled by the coordinator'));
  void worker.run();
  await worker.waitUntilReady();
  return {
    id: WORKER_ID,
    queue: name,
    async close() {
      await worker.close();
      await subscriber.quit().catch(() => subscriber.disconnect());
      await connection.quit().catch(() => connection.disconnect());
      await parts.logs.flush();
    },
  };
}
