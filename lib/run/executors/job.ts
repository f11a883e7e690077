import { LittlepipesError } from '../../errors.js';
import type { StoredValue } from '../../cache/entry.js';
import type { DefinitionFingerprint } from '../../fingerprint/definition.js';
import type { JsonValue } from '../../fingerprint/params.js';
import type { ProcessTiming } from '../outcome.js';

/**
 * One attempt of a task as a BullMQ job: what a worker needs to run it as the coordinator
 * defined it, and nothing of the values themselves (the worker reads them from the shared store).
 */
export interface TaskJob {
  task: string;
  /** The coordinator's namespace in the store: the worker's must be the same. */
  namespace: string;
  /** `host:pid` of the coordinating process, for the worker's log. */
  coordinator: string;
  attempt: number;
  /** The coordinator's definition fingerprint of the task, without the per-symbol hashes. */
  definition: Pick<DefinitionFingerprint, 'code' | 'options' | 'params'>;
  /** The task's dependencies, requires and params as the coordinator's run has them (a profile may change them). */
  dependencies: string[];
  requires: string[];
  params: Record<string, JsonValue>;
  /**
   * For each dependency, the hash of the result the task runs on and, when the result is stored
   * under its own key, that reference; without one the worker reads the dependency's entry.
   */
  upstream: Record<string, { hash: string; value?: StoredValue }>;
}

/** An error as it travels back from a worker. */
export interface TravellingError {
  name: string;
  message: string;
  stack?: string;
  /** The LittlepipesError code, when it is one. */
  code?: string;
}

/**
 * What a worker answers for a job. A task that threw is a job that completed with `ok: false`:
 * BullMQ's own failure is kept for a job no worker could finish (its workers died).
 */
export type TaskJobOutcome =
  | { ok: true; stored: { hash: string; value: StoredValue; formats?: Record<string, number> | undefined }; worker: string; logFile: string; timings: ProcessTiming[] }
  | { ok: false; error: TravellingError; worker: string; logFile: string; timings: ProcessTiming[] };

/** The BullMQ queue of a pipeline (by its namespace in the store: the project and the pipeline). BullMQ forbids ':' in queue names. */
export function queueName(namespace: string): string {
  return `littlepipes.${encodeURIComponent(namespace)}`;
}

/** The Redis channel on which a coordinator tells workers to abort a job (the run was cancelled, or the attempt timed out). */
export function cancelChannel(queue: string): string {
  return `${queue}.cancel`;
}

/** An error as plain data, to cross a process or thread boundary. */
export function travellingError(error: unknown): TravellingError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, stack: error.stack, ...(typeof code === 'string' && code.startsWith('ERR_') ? { code } : {}) };
}

/**
 * An error that came back from a worker, as an Error again: a LittlepipesError keeps its code
 * (so the runner knows, say, that a mismatch is not worth another attempt), and every error
 * keeps its name and the stack where it was thrown.
 */
export function arrivedError(travelling: TravellingError): Error {
  const error = travelling.code ? new LittlepipesError(travelling.code, travelling.message) : new Error(travelling.message);
  error.name = travelling.name;
  if (travelling.stack) error.stack = travelling.stack;
  return error;
}
