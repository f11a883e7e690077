import os from 'node:os';
import type { StoredValue } from '../../cache/entry.js';
import type { ResultStore } from '../../cache/store.js';
import { WorkerMismatchError } from '../../errors.js';
import { definitionFingerprint } from '../../fingerprint/definition.js';
import type { TaskLogs } from '../../logs/task-logs.js';
import { suggest } from '../../names.js';
import type { ProcessTiming } from '../outcome.js';
import type { AnyTask, PipelineView } from '../../task.js';
import { createContext } from '../context.js';
import { RunResources } from '../resources.js';
import type { DefaultConnection } from './choice.js';
import { shapedAs } from './executor.js';
import { type TaskJob, type TaskJobOutcome, travellingError } from './job.js';

/** What a worker process works with: the pipeline its module defines, and that pipeline's store and logs. */
export interface WorkerParts {
  pipeline: PipelineView;
  /** The pipeline's tasks, by name. */
  tasks: ReadonlyMap<string, AnyTask>;
  store: ResultStore;
  namespace: string;
  logs: TaskLogs;
  /** The module the worker loaded, for messages. */
  file: string;
}

/** What `littlepipes worker` asks a pipeline for: its parts, where its results live if workers cannot share them, and its default queue. */
export interface WorkerSetup extends WorkerParts {
  unshared: string | undefined;
  connection: DefaultConnection | undefined;
}

/** `host:pid` of this process, as reports name a worker. */
export const WORKER_ID = `${os.hostname()}:${process.pid}`;

/** Nothing: a task that travels uses no resource (see mustStayLocal). */
const NO_RESOURCES = new RunResources(new Map());

/**
 * Runs one attempt of a task for a coordinator, in a worker process: checks that this process
 * defines the task as the coordinator does, reads the upstream values from the shared store,
 * runs the task, and stores its result under a key of its own. The coordinator writes the
 * task's entry; the result's bytes pass through the store once.
 */
export async function runTaskJob(parts: WorkerParts, job: TaskJob, signal: AbortSignal): Promise<TaskJobOutcome> {
  const log = parts.logs.logger(job.task);
  const logFile = parts.logs.file(job.task);
  const timings = new Map<string, ProcessTiming>();
  try {
    const task = taskAsCoordinatorHasIt(parts, job);
    const upstream = await upstreamValues(parts.store, job);
    log.info({ attempt: job.attempt, coordinator: job.coordinator, worker: WORKER_ID }, `started on worker ${WORKER_ID} for ${job.coordinator}`);
    const context = createContext(task, { pipeline: parts.pipeline, logger: () => log, signal, upstream, timings, inputs: [], attempt: job.attempt, resources: NO_RESOURCES });
    const start = performance.now();
    const result = await (context.run as () => unknown)();
    if (signal.aborted) throw signal.reason;
    const encoded = await parts.store.codec.encode(result, task.name);
    const stored = { ...(await parts.store.storeValueRef(task.name, encoded.bytes)), formats: encoded.formats };
    const ms = Math.round(performance.now() - start);
    log.info({ ms }, `done in ${ms} ms`);
    return { ok: true, stored, worker: WORKER_ID, logFile, timings: [...timings.values()] };
  } catch (error) {
    log.error({ err: error }, 'failed');
    return { ok: false, error: travellingError(error), worker: WORKER_ID, logFile, timings: [...timings.values()] };
  } finally {
    void parts.logs.flush();
  }
}

/**
 * The worker's task, shaped as the coordinator's run has it (a profile may change its params,
 * gates its dependencies), refused when this process's code or namespace is not the coordinator's.
 */
function taskAsCoordinatorHasIt(parts: WorkerParts, job: TaskJob): AnyTask {
  if (job.namespace !== parts.namespace) {
    throw new WorkerMismatchError(job.task, `Worker ${WORKER_ID} keeps results under "${parts.namespace}", the coordinator ${job.coordinator} under "${job.namespace}": they would not see each other's results. Start the worker in the coordinator's project, or give both pipelines the same project option.`);
  }
  const own = parts.tasks.get(job.task);
  if (!own) {
    const guess = suggest(job.task, parts.tasks.keys());
    throw new WorkerMismatchError(job.task, `Worker ${WORKER_ID} cannot run ${job.task}: its pipeline module ${parts.file} defines no task of that name${guess ? ` (did you mean "${guess}"?)` : ''}. Start the workers with the coordinator's pipeline module.`);
  }
  const task = shapedAs(own, job);
  const definition = definitionFingerprint(task);
  const { code, options, params } = job.definition;
  if (definition.code !== code || definition.options !== options || definition.params !== params) {
    const part = definition.code !== code ? 'code' : definition.options !== options ? 'dependencies' : 'params';
    throw new WorkerMismatchError(job.task, `Worker ${WORKER_ID} defines ${job.task} differently from the coordinator ${job.coordinator} (its ${part} differ): the worker runs another version of ${parts.file}. Restart the workers on the coordinator's code.`);
  }
  return task;
}

/**
 * The values of the task's dependencies, from the shared store: by their reference when the
 * coordinator sent one, else from the dependency's entry, which must hold the result the
 * coordinator decided on.
 */
async function upstreamValues(store: ResultStore, job: TaskJob): Promise<Map<string, unknown>> {
  const values = new Map<string, unknown>();
  const byEntry = Object.entries(job.upstream).filter(([, upstream]) => !upstream.value || !('ref' in upstream.value)).map(([name]) => name);
  const entries = byEntry.length > 0 ? await store.readEntries(byEntry) : undefined;
  await Promise.all(Object.entries(job.upstream).map(async ([name, upstream]) => {
    let value: StoredValue | undefined = upstream.value && 'ref' in upstream.value ? upstream.value : undefined;
    if (!value) {
      const entry = entries?.get(name);
      if (entry?.resultHash !== upstream.hash || !entry.value) {
        throw new WorkerMismatchError(job.task, `Worker ${WORKER_ID} cannot read the result of ${name} that ${job.task} runs on: the shared store holds ${entry?.resultHash ? 'another result' : 'none'}. Another process changed it meanwhile; run again.`);
      }
      value = entry.value;
    }
    values.set(name, await store.loadValue(name, value!, upstream.hash));
  }));
  return values;
}
