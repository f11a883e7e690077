import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Command, Option } from 'commander';
import type { ExecuteOptions } from '../../pipeline-options.js';
import type { RunRecord, TaskRecord, TaskReport } from '../../run/outcome.js';
import { counted } from '../../words.js';
import { EXIT, type CommandContext, type SelectionFlags, htmlFolderProblem, selectionOptions, taskNames } from '../context.js';
import { InvalidOptionError, littlepipesCode, type PipelineRunError, type RunCancelledError } from '../../errors.js';
import { EXECUTORS, type ExecutorName } from '../../run/executors/executor.js';
import { reportCacheFolder } from './watch.js';

interface RunFlags extends SelectionFlags {
  force?: boolean | string[];
  concurrency?: string;
  json?: boolean;
  html?: string;
  profile?: string;
  executor?: ExecutorName;
  connection?: string;
}

/** `littlepipes run [tasks...]`: runs what is not fresh. */
export function runCommand(program: Command, context: CommandContext): void {
  program
    .command('run')
    .description('run every task that is not fresh (or the named tasks and what they need)')
    .argument('[tasks...]', 'run these tasks and what they need (the others are skipped)')
    .option('--force [tasks...]', 're-run these tasks (all when none are named) even if fresh')
    .option('--only <tasks...>', 'the same as naming the tasks: these and what they need, as `only` in the API')
    .option('--no-deps', 'run just the tasks named; what they need is served from the cache, not run')
    .option('--skip <tasks...>', 'do not run these tasks; their cached results still serve dependents')
    .option('--concurrency <n>', 'how many tasks may run at once (default: settings.concurrency in littlepipes.yaml, else 4)')
    .option('--profile <name>', 'a profile from littlepipes.yaml: stages, optional groups, params, startFrom, stopAfter')
    .addOption(new Option('--executor <name>', 'where tasks run: here, in worker threads, or on `littlepipes worker` processes (default: settings.executor in littlepipes.yaml, else local)').choices(EXECUTORS))
    .option('--connection <url>', 'the Redis URL of the queue, with --executor bullmq (default: LITTLEPIPES_CONNECTION, else settings.connection in littlepipes.yaml)')
    .option('--json', 'print the run report as JSON on stdout (no progress display)')
    .option('--html <file>', 'write a picture of the run (graph and timeline), updated while it runs')
    .addHelpText('after', `
Examples:
  $ littlepipes run                       run what is not fresh
  $ littlepipes run Report                Report and what it needs
  $ littlepipes run --force Clean         re-run Clean even if it is fresh
  $ littlepipes run Report --no-deps      just Report, with its inputs from the cache
  $ littlepipes run --json > run.json     the report for machines
  $ littlepipes run --html run.html       a live picture; open it in a browser
  $ littlepipes run --executor threads    CPU-heavy tasks in worker threads, in parallel
  $ littlepipes run --executor bullmq --connection redis://queue.internal:6379
                                          tasks as jobs for \`littlepipes worker\` processes

Exit codes: 0 all ran or were fresh, 1 a task failed, 2 bad usage or an invalid pipeline, 130 interrupted.`)
    .action(async (targets: string[], flags: RunFlags) => {
      if (flags.connection !== undefined && flags.executor !== 'bullmq') {
        throw new InvalidOptionError('connection', `--connection is the Redis URL of the bullmq executor's queue: add --executor bullmq, or leave --connection out.`);
      }
      const htmlProblem = htmlFolderProblem(flags.html);
      if (htmlProblem) {
        context.output.err(htmlProblem);
        context.exit(EXIT.usage);
        return;
      }
      const { pipeline } = await context.load();
      reportCacheFolder(pipeline.cacheDir);
      const options = executeOptions(pipeline, targets, flags);
      const controller = new AbortController();
      const onInterrupt = () => {
        if (controller.signal.aborted) process.exit(EXIT.interrupted); // A second Ctrl-C: at once.
        context.output.err('Interrupted: stopping the running tasks (Ctrl-C again to quit at once)…');
        controller.abort(new Error('interrupted by Ctrl-C'));
      };
      process.on('SIGINT', onInterrupt);
      const live = flags.html ? await livePicture(context, flags.html, options) : undefined;
      try {
        const report = await pipeline.execute({ ...options, signal: controller.signal, progress: !flags.json, ...(live ? { events: live.events } : {}) });
        if (flags.json) context.output.out(JSON.stringify(report.toJSON(), null, 2));
        // Nothing failed, yet tasks asked for have no fresh result: a task they need was skipped and has none.
        const blocked = report.tasks.filter((task) => task.status === 'blocked');
        if (blocked.length > 0) {
          context.output.err(`littlepipes: run: ${counted(blocked.length, 'task')} could not run, for a task they need was skipped and has no fresh cached result: ${blocked.map((task) => task.name).join(', ')}. Run it (leave it out of --skip) once, and then it can be skipped.`);
          context.exit(EXIT.failed);
        }
      } catch (error) {
        // By code: the pipeline module may use another copy of littlepipes, whose classes are not these.
        // The error itself is reported, and its exit code set, as every other is.
        const code = littlepipesCode(error);
        if (flags.json && (code === 'ERR_RUN_FAILED' || code === 'ERR_RUN_CANCELLED')) context.output.out(JSON.stringify((error as PipelineRunError | RunCancelledError).report.toJSON(), null, 2));
        throw error;
      } finally {
        process.off('SIGINT', onInterrupt);
        await live?.finished;
      }
    });

  /** The run as ExecuteOptions, from the command line's words. */
  function executeOptions(pipeline: Parameters<typeof selectionOptions>[0], targets: string[], flags: RunFlags): ExecuteOptions {
    // No default here: without --concurrency, the pipeline takes littlepipes.yaml's settings.concurrency.
    const concurrency = Number(flags.concurrency);
    if (flags.concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new InvalidOptionError('concurrency', `--concurrency must be a whole number from 1 up, got "${flags.concurrency}". Try ${Math.max(2, os.availableParallelism())}.`);
    }
    return {
      force: flags.force === true ? true : taskNames(flags.force || []),
      ...selectionOptions(pipeline, 'run', targets, flags),
      ...(flags.concurrency === undefined ? {} : { concurrency }),
      ...(flags.profile ? { profile: flags.profile } : {}),
      // Without --executor (or --connection), the pipeline takes littlepipes.yaml's settings and LITTLEPIPES_CONNECTION.
      ...(flags.executor ? { executor: flags.executor } : {}),
      ...(flags.connection === undefined ? {} : { connection: flags.connection }),
    };
  }
}

/** The live page is redrawn at most this often: a page of 60 tasks takes a few milliseconds to draw. */
const REDRAW_MS = 250;

/**
 * Keeps a picture of the run in `file`: drawn before the run, redrawn as tasks start and finish,
 * and drawn a last time, from the report and without auto-refresh, when the run ends. A redraw
 * waits for a timer, at most one every REDRAW_MS, and is never drawn inside the runner's events,
 * which come on the path that starts tasks: a task's time would count the drawing. The graph's
 * shape does not change during a run, so it is laid out once. Each page is written beside `file`
 * and renamed over it, so a browser reloading never reads half a page.
 */
async function livePicture(context: CommandContext, file: string, options: ExecuteOptions) {
  const { pipeline } = await context.load();
  const { graphViewFromPlan, graphViewFromRun, htmlPage, layoutGraph } = await import('../../report/pictures/index.js');
  const tasks = pipeline.tasks;
  const planned = graphViewFromPlan(tasks, await pipeline.plan(options));
  const layout = layoutGraph(planned);
  const target = path.resolve(file);
  const startedAt = new Date().toISOString();
  const running = new Set<string>();
  const finished = new Map<string, TaskRecord>();
  let writing = Promise.resolve();
  let pages = 0;
  const write = (html: string) => {
    const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${++pages}.tmp`);
    writing = writing
      .then(async () => {
        await fs.promises.writeFile(temporary, html);
        await fs.promises.rename(temporary, target);
      })
      .catch(async (error: unknown) => {
        await fs.promises.rm(temporary, { force: true });
        context.output.err(`littlepipes: cannot write ${file}: ${(error as Error).message}`);
      });
  };
  // The report's times only, never this writer's clock: the run so far ends where its last finished task ended.
  const snapshot = (): RunRecord => {
    const records = [...finished.values()];
    const counts = { ran: 0, cached: 0, failed: 0, blocked: 0, skipped: 0, cancelled: 0 };
    for (const record of records) counts[record.status]++;
    return { pipeline: pipeline.name, startedAt, ms: Math.max(0, ...records.map((record) => record.endMs ?? 0)), counts, tasks: records };
  };
  const draw = () => {
    timer = undefined;
    drawnAt = performance.now();
    const run = snapshot();
    const now = graphViewFromRun(tasks, run, running).nodes;
    const nodes = planned.nodes.map((node, index) => (running.has(node.name) || finished.has(node.name) ? now[index]! : node));
    write(htmlPage({ graph: { ...planned, nodes }, layout, run, title: `${pipeline.name}: running`, refreshSeconds: 2 }));
  };
  let timer: NodeJS.Timeout | undefined;
  let drawnAt = 0;
  const redrawSoon = () => {
    // unref: a run that ends without runFinished (a failed commit) is not kept waiting for a page.
    timer ??= setTimeout(draw, Math.max(0, drawnAt + REDRAW_MS - performance.now())).unref();
  };
  draw();
  return {
    events: {
      taskStarted(name: string) {
        running.add(name);
        redrawSoon();
      },
      taskFinished({ error, ...task }: TaskReport) {
        running.delete(task.name);
        finished.set(task.name, error ? { ...task, error: { message: error.message } } : task);
        redrawSoon();
      },
      runFinished(report: { toJSON(): RunRecord }) {
        clearTimeout(timer);
        timer = undefined;
        const record = report.toJSON();
        write(htmlPage({ graph: graphViewFromRun(tasks, record), layout, run: record, title: pipeline.name }));
        context.output.err(`Picture of the run: ${target}`);
      },
    },
    /** Resolves once every page started has been written. */
    get finished() {
      return writing;
    },
  };
}
