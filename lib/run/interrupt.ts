import { inNotebook } from '../host.js';
import { TaskLogs } from '../logs/task-logs.js';
import { killRunningPrograms } from '../tasks/command-task.js';

/** Ctrl-C handling for one run: its signal, whether Ctrl-C cancelled it, and how to stop listening. */
export interface Interrupt {
  signal: AbortSignal;
  interrupted(): boolean;
  dispose(): void;
  /**
   * Once the run Ctrl-C cancelled has stopped, its results are committed and its report is shown:
   * ends the process as that Ctrl-C would have ended a script without littlepipes.
   */
  passOn(): void;
}

/**
 * For a run started from a script without a signal of its own: the first Ctrl-C stops starting
 * tasks and aborts the running ones through their signal (the run then ends, caching nothing
 * half-done, and its report is shown), a second one ends the process at once. Either way the
 * process ends as Ctrl-C ends any Node script, never by process.exit. Nothing is installed when
 * something else already handles SIGINT (the command line, the shell, the caller) or in a
 * notebook, whose kernel has its own meaning for an interrupt.
 */
export function interruptOnCtrlC(): Interrupt | undefined {
  if (process.listenerCount('SIGINT') > 0 || inNotebook()) return undefined;
  const controller = new AbortController();
  const dispose = () => process.off('SIGINT', onInterrupt);
  const passOn = () => {
    dispose();
    endAsCtrlC();
  };
  function onInterrupt() {
    if (controller.signal.aborted) return passOn();
    process.stderr.write('\nInterrupted: stopping the running tasks (Ctrl-C again to quit at once)…\n');
    controller.abort(new Error('interrupted by Ctrl-C'));
  }
  process.on('SIGINT', onInterrupt);
  return { signal: controller.signal, interrupted: () => controller.signal.aborted, dispose, passOn };
}

/**
 * Raises SIGINT again with no listener of littlepipes left, so Node's default ends the process by
 * the signal (a shell reports 130), or the listener the script added meanwhile decides. A process
 * ended by a signal emits no 'exit', so what littlepipes does on 'exit' is done first.
 */
function endAsCtrlC(): void {
  TaskLogs.flushAllSync();
  killRunningPrograms();
  process.kill(process.pid, 'SIGINT');
}
