import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { findPipelineFile } from '../load.js';
import { EXIT, type CommandContext } from '../context.js';
import { ownModule } from '../../own-package.js';

/** Folders whose changes never re-run anything: dependencies, builds, version control, caches. */
const IGNORED_FOLDERS = new Set(['node_modules', '.git', 'dist', '.littlepipes', '.tools', 'coverage']);

interface WatchFlags {
  debounce: string;
  watch?: string[];
  profile?: string;
}

/**
 * `littlepipes watch`: runs, then runs again whenever a file of the project changes.
 *
 * Each run is a child process running `littlepipes run`: a pipeline module that fails to load
 * (a syntax error mid-edit) then costs one failed run, not the watch; and every run imports the
 * modules as they are now, which one long-lived process cannot do with ES modules. Change
 * detection inside the run decides what actually runs again.
 */
export function watchCommand(program: Command, context: CommandContext): void {
  program
    .command('watch')
    .description('run, then run again whenever a source, input or params file changes')
    .argument('[tasks...]', 'run only these tasks and what they need')
    .option('--debounce <ms>', 'wait this long after the last change before running', '300')
    .option('--watch <paths...>', 'also watch these files or folders (inputs outside the project)')
    .option('--profile <name>', 'run with a profile from littlepipes.yaml')
    .addHelpText('after', `
Examples:
  $ littlepipes watch                 re-run what your edits make stale
  $ littlepipes watch Report          keep Report up to date
  $ littlepipes watch --watch ~/data  also re-run when files there change

Ctrl-C stops watching, with exit code 130 (interrupted), as it stops run; SIGTERM stops it with 0.`)
    .action(async (targets: string[], flags: WatchFlags) => {
      const debounce = Number(flags.debounce);
      if (!Number.isFinite(debounce) || debounce < 0) {
        context.output.err(`littlepipes: --debounce must be a number of milliseconds, got "${flags.debounce}".`);
        context.exit(EXIT.usage);
        return;
      }
      const globals = context.globals();
      const { file, projectRoot } = findPipelineFile(globals.pipeline);
      // Runs write to the pipeline's cache folder, which its module or littlepipes.yaml may put
      // anywhere in the project: each run reports it (see reportCacheFolder), and changes there are
      // not edits. Without that, every run would start the next.
      const cacheFolders = new Set([path.resolve(process.env.LITTLEPIPES_DIR ?? '.littlepipes')]);
      const inCacheFolder = (entry: string) => [...cacheFolders].some((folder) => path.resolve(entry).startsWith(folder + path.sep) || path.resolve(entry) === folder);
      const { default: chokidar } = await import('chokidar');
      const runArguments = [cliEntry(), 'run', ...targets, '--pipeline', file, ...(flags.profile ? ['--profile', flags.profile] : []), ...(globals.verbose ? ['--verbose'] : [])];
      // Ctrl-C is an interrupt, 130 as for run; SIGTERM, a process manager's stop, ends it as it should: 0.
      const stoppedBy = await new Promise<NodeJS.Signals>((resolve) => {
        let child: ChildProcess | undefined;
        let timer: NodeJS.Timeout | undefined;
        let stopping = false;
        let stopSignal: NodeJS.Signals = 'SIGINT';
        let first = true;
        const changed = new Set<string>();
        const dropCacheChanges = () => {
          for (const entry of changed) if (inCacheFolder(entry)) changed.delete(entry);
        };

        const startRun = () => {
          // A change during a run is kept in `changed`: the run's end starts the next.
          if (stopping || child) return;
          dropCacheChanges();
          if (!first && changed.size === 0) return;
          first = false;
          if (changed.size > 0) context.output.err(`\nChanged: ${[...changed].map((name) => path.relative(process.cwd(), name) || name).slice(0, 5).join(', ')}${changed.size > 5 ? ` and ${changed.size - 5} more` : ''}`);
          changed.clear();
          child = spawn(process.execPath, runArguments, { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: { ...process.env, [WATCH_CHANNEL]: '1' } });
          child.on('message', (message: { cacheDir?: unknown }) => {
            if (typeof message?.cacheDir === 'string') cacheFolders.add(path.resolve(message.cacheDir));
          });
          child.on('exit', (code) => {
            child = undefined;
            if (stopping) return resolve(stopSignal);
            context.output.err(code === 0 ? 'Watching for changes (Ctrl-C to stop)…' : `Run ended with exit code ${code}. Watching for changes (Ctrl-C to stop)…`);
            startRun();
          });
        };

        const watcher = chokidar.watch([projectRoot, file, ...(flags.watch ?? []).map((entry) => path.resolve(entry))], {
          ignoreInitial: true,
          ignored: (entry) => inCacheFolder(entry) || entry.split(path.sep).some((part) => IGNORED_FOLDERS.has(part)),
        });
        watcher.on('all', (_event, entry) => {
          if (inCacheFolder(entry)) return;
          changed.add(entry);
          clearTimeout(timer);
          timer = setTimeout(startRun, debounce);
        });
        watcher.on('error', (error) => context.output.err(`littlepipes: watching failed for a path: ${(error as Error).message}`));

        const stop = (signal: NodeJS.Signals) => {
          if (stopping) return;
          stopping = true;
          stopSignal = signal;
          clearTimeout(timer);
          context.output.err('\nStopped watching.');
          void watcher.close();
          if (!child) return resolve(signal);
          child.once('exit', () => resolve(signal));
          // From a terminal, the child got the same Ctrl-C and is stopping its tasks; from `kill`, it did not.
          const running = child;
          setTimeout(() => running.exitCode === null && running.kill('SIGINT'), 200).unref();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        watcher.on('ready', () => {
          context.output.err(`Watching ${projectRoot} (Ctrl-C to stop)`);
          startRun();
        });
      });
      context.exit(stoppedBy === 'SIGINT' ? EXIT.interrupted : EXIT.ok);
    });
}

/** Set for the runs `watch` starts, which then report their cache folder on their IPC channel. */
const WATCH_CHANNEL = 'LITTLEPIPES_WATCH_CHANNEL';

/** In a run started by `watch`: tells the watch which folder the run writes its cache to. */
export function reportCacheFolder(cacheDir: string): void {
  if (process.env[WATCH_CHANNEL] === '1' && process.send) process.send({ cacheDir });
}

/** This command line's own entry file, to run `littlepipes run` in a child process. */
function cliEntry(): string {
  return ownModule('cli/main');
}
