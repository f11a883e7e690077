import { inNotebook } from '../host.js';

/** The exit code of a process ended by Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130;

/** Ctrl-C handling for one run: its signal, whether Ctrl-C cancelled it, and how to stop listening. */
export interface Interrupt {
  signal: AbortSignal;
  interrupted(): boolean;
  dispose(): void;
}

/**
 * For a run started from a script without a signal of its own: the first Ctrl-C stops starting
 * tasks and aborts the running ones through their signal (the run then ends, caching nothing
 * half-done, and its report is shown), a second one quits at once. Nothing is installed when
 * something else already handles SIGINT (the command line, the shell, the caller) or in a
 * notebook, whose kernel has its own meaning for an interrupt.
 */
export function interruptOnCtrlC(): Interrupt | undefined {
  if (process.listenerCount('SIGINT') > 0 || inNotebook()) return undefined;
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(INTERRUPTED_EXIT_CODE);
    process.stderr.write('\nInterrupted: stopping the running tasks (Ctrl-C again to quit at once)…\n');
    controller.abort(new Error('interrupted by Ctrl-C'));
  };
  process.on('SIGINT', onInterrupt);
  return {
    signal: controller.signal,
    interrupted: () => controller.signal.aborted,
    dispose: () => process.off('SIGINT', onInterrupt),
  };
}
