import type { Command } from 'commander';
import { redactUrl } from '../../cache/backends/shared-store.js';
import { ExecutorError, InvalidOptionError, PipelineLoadError } from '../../errors.js';
import { LOADED_BY_WORKER, PIPELINE_PARTS, sharedStoreAdvice } from '../../run/executors/executor.js';
import { isRedisUrl } from '../../run/executors/redis-connection.js';
import { type DefaultConnection, defaultConnectionUrl } from '../../run/executors/choice.js';
import type { WorkerSetup } from '../../run/executors/remote-task.js';
import { type CommandContext, EXIT } from '../context.js';

interface WorkerFlags {
  connection?: string;
  concurrency: string;
  stallMs: string;
}

/** `littlepipes worker --connection URL`: runs the tasks coordinators send through BullMQ, until stopped. */
export function workerCommand(program: Command, context: CommandContext): void {
  program
    .command('worker')
    .description('run the tasks that `littlepipes run --executor bullmq` sends (or execute() with the bullmq executor), until stopped (Ctrl-C or SIGTERM)')
    .option('--connection <url>', 'the Redis URL of the queue, as the coordinator was given it (default: LITTLEPIPES_CONNECTION, else settings.connection in littlepipes.yaml)')
    .option('--concurrency <n>', 'how many tasks this worker runs at once', '4')
    .option('--stall-ms <ms>', 'how long a worker may go silent before its tasks go to another worker', '30000')
    .addHelpText('after', `
The worker loads the pipeline module (--pipeline FILE) and runs the tasks coordinators send,
reading their inputs from the pipeline's shared store and storing their results there.

Examples:
  $ littlepipes worker --pipeline pipeline.ts --connection redis://localhost:6379
  $ littlepipes worker --connection redis://queue.internal:6379 --concurrency 8
  $ LITTLEPIPES_CONNECTION=redis://queue.internal:6379 littlepipes worker

Exit codes: 0 when stopped by SIGTERM (once its running tasks are done), 130 by Ctrl-C, 2 for bad usage.`)
    .action(async (flags: WorkerFlags) => {
      if (flags.connection !== undefined && !isRedisUrl(flags.connection)) throw new InvalidOptionError('connection', `littlepipes worker: --connection must be a Redis URL such as redis://localhost:6379, got ${JSON.stringify(flags.connection)}.`);
      const concurrency = wholeNumber('concurrency', flags.concurrency);
      const stallMs = wholeNumber('stall-ms', flags.stallMs);
      // The module defines the tasks; a module that runs its pipeline when imported must not do so here.
      (globalThis as { [LOADED_BY_WORKER]?: boolean })[LOADED_BY_WORKER] = true;
      const { pipeline, file } = await context.load();
      const partsOf = (pipeline as unknown as { [PIPELINE_PARTS]?: (file: string) => WorkerSetup })[PIPELINE_PARTS];
      if (typeof partsOf !== 'function') throw new PipelineLoadError(file, `${file} uses a littlepipes without workers; install this version of littlepipes in its project.`);
      const parts = partsOf.call(pipeline, file);
      const connection = queueUrl(flags.connection, parts.connection);
      if (parts.unshared) {
        throw new ExecutorError('bullmq', `littlepipes worker: the pipeline "${pipeline.name}" in ${file} keeps its results in ${parts.unshared}, which coordinators cannot read. ${sharedStoreAdvice(pipeline.name)}`);
      }
      const { startWorker } = await import('../../run/executors/worker.js');
      const worker = await startWorker(parts, { connection, concurrency, stallMs });
      context.output.err(`littlepipes worker ${worker.id}: ready on queue ${worker.queue} (${redactUrl(connection)}), ${concurrency} task${concurrency === 1 ? '' : 's'} at once. Ctrl-C to stop.`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      context.output.err(`littlepipes worker ${worker.id}: stopping once its running tasks are done.`);
      await worker.close();
      // Ctrl-C is an interrupt, 130 as for run and watch; SIGTERM, a process manager's stop, ends it as it should: 0.
      if (signal === 'SIGINT') context.exit(EXIT.interrupted);
    });
}

/** The queue's Redis URL: --connection, else the pipeline's default (LITTLEPIPES_CONNECTION, settings.connection), checked as the flag is. */
function queueUrl(flag: string | undefined, fallback: DefaultConnection | undefined): string {
  if (flag !== undefined) return flag;
  if (fallback === undefined) {
    throw new InvalidOptionError('connection', 'littlepipes worker: give the Redis URL of the queue, as the coordinator was given it: --connection redis://localhost:6379, LITTLEPIPES_CONNECTION, or connection under settings in littlepipes.yaml.');
  }
  return defaultConnectionUrl(fallback, 'littlepipes worker');
}

function wholeNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidOptionError(flag, `littlepipes worker: --${flag} must be a whole number from 1 up, got ${JSON.stringify(text)}.`);
  return value;
}
