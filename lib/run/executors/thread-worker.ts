// The code of a worker thread of the threads executor (piscina runs its default export). It
// imports the module that defined a task, finds the task among those the module created, and
// runs it on the upstream values it is sent; the result goes back by structured clone.
import { pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';
import pino from 'pino';
import { Codec, needsFrame } from '../../cache/codec.js';
import { definedFormats } from '../../cache/formats/format.js';
import { WorkerMismatchError } from '../../errors.js';
import type { JsonValue } from '../../fingerprint/params.js';
import type { ProcessTiming } from '../outcome.js';
import { type AnyTask, TASK_CREATED } from '../../task.js';
import { createContext } from '../context.js';
import { FROM_SOURCE } from '../../own-package.js';
import { RunResources } from '../resources.js';
import { LOADED_BY_WORKER, shapedAs } from './executor.js';
import { type TravellingError, travellingError } from './job.js';

/** One attempt of a task, as the main thread sends it. */
export interface ThreadCall {
  /** The module that defined the task (where its `run` process was registered). */
  module: string;
  /** Where `run` was registered in it, to tell apart tasks of one name. */
  site: { line: number; column: number } | undefined;
  task: string;
  dependencies: string[];
  requires: string[];
  params: Record<string, JsonValue>;
  attempt: number;
  upstream: [string, unknown][];
  /** The upstream values sent as their cached bytes (see Codec), to be decoded here. */
  framed: string[];
  logLevel: string;
  redact: string[];
}

export type ThreadOutcome =
  | { ok: true; value: unknown; framed: boolean; timings: ProcessTiming[]; lines: string[]; threadId: number }
  | { ok: false; error: TravellingError; timings: ProcessTiming[]; lines: string[]; threadId: number };

const globals = globalThis as { [LOADED_BY_WORKER]?: boolean; [TASK_CREATED]?: (task: AnyTask) => void };
globals[LOADED_BY_WORKER] = true;
const created = new Map<string, AnyTask[]>();
globals[TASK_CREATED] = (task) => {
  const same = created.get(task.name);
  if (same) same.push(task);
  else created.set(task.name, [task]);
};
const modules = new Map<string, Promise<unknown>>();
const NO_RESOURCES = new RunResources(new Map());
let typescript: Promise<unknown> | undefined;

export default async function runInThread(call: ThreadCall): Promise<ThreadOutcome> {
  const lines: string[] = [];
  const timings = new Map<string, ProcessTiming>();
  try {
    const task = await findTask(call);
    const root = pino({ level: call.logLevel, ...(call.redact.length > 0 ? { redact: { paths: call.redact, censor: '[redacted]' } } : {}) }, { write: (line: string) => void lines.push(line) });
    const log = root.child({ task: call.task });
    const context = createContext(task, {
      // The pipeline object lives in the main thread; a task run here reads what it was sent.
      pipeline: undefined as never,
      logger: () => log,
      signal: new AbortController().signal,
      upstream: await receivedUpstream(call),
      timings,
      inputs: [],
      attempt: call.attempt,
      resources: NO_RESOURCES,
    });
    const value = await (context.run as () => unknown)();
    // Structured clone would flatten tables and formats' classes: they go back as their cached bytes
    // (and what cannot be cached is refused here, with the message saying why).
    if (!needsFrame(value)) return { ok: true, value, framed: false, timings: [...timings.values()], lines, threadId };
    const { bytes } = await new Codec(definedFormats()).encode(value, call.task);
    return { ok: true, value: bytes, framed: true, timings: [...timings.values()], lines, threadId };
  } catch (error) {
    return { ok: false, error: travellingError(error), timings: [...timings.values()], lines, threadId };
  }
}

async function receivedUpstream(call: ThreadCall): Promise<Map<string, unknown>> {
  const upstream = new Map(call.upstream);
  if (call.framed.length === 0) return upstream;
  const codec = new Codec(definedFormats());
  for (const name of call.framed) upstream.set(name, await codec.decode(upstream.get(name) as Uint8Array));
  return upstream;
}

async function findTask(call: ThreadCall): Promise<AnyTask> {
  await importOnce(call.module);
  const candidates = created.get(call.task) ?? [];
  const task = candidates.find((candidate) => {
    const site = candidate.siteOf('run');
    return site?.file === call.module && site.line === call.site?.line && site.column === call.site?.column;
  }) ?? candidates[0];
  if (!task) {
    throw new WorkerMismatchError(call.task, `A worker thread imported ${call.module}, where ${call.task} registers its run process, but importing it made no task ${call.task} (the task is made by a function the module does not call at import). Give the task local: true, or make it when the module is imported.`);
  }
  return shapedAs(task, call);
}

function importOnce(file: string): Promise<unknown> {
  let loading = modules.get(file);
  if (!loading) {
    loading = (async () => {
      // A TypeScript module needs the TypeScript hooks in this thread: on Node 20 a thread does
      // not get the main thread's, even when node was started with --import tsx.
      if (/\.[cm]?tsx?$/.test(file)) {
        // Built, littlepipes' own hooks (lib/typescript/). From source, as the tests run lib/ under
        // tsx, the hooks are tsx's: littlepipes' own are TypeScript there, which the hooks thread cannot load.
        typescript ??= FROM_SOURCE
          ? import('tsx/esm/api').then(({ register }) => register())
          : import('../../typescript/register.js').then(({ registerTypeScript }) => registerTypeScript());
        await typescript;
      }
      return import(pathToFileURL(file).href);
    })();
    modules.set(file, loading);
  }
  return loading;
}
