import type { Ora } from 'ora';
import { oraModule } from '../deferred-packages.js';
import { type RunReport, type TaskReport } from '../run/outcome.js';
import type { ProgressListener } from '../run/events.js';
import { formatMs } from '../words.js';
import { renderTable } from './table.js';

/**
 * Progress on `stream` (stderr by default, so stdout stays for the program's own output): an
 * ora spinner naming the running tasks on a terminal, plain lines elsewhere (CI, pipes,
 * notebooks), and the report table at the end. Colour is off when NO_COLOR is set or the stream
 * is not a terminal. Async because ora is imported only for a terminal, before the run starts.
 */
export async function terminalProgress(total: number, stream: NodeJS.WriteStream = process.stderr): Promise<ProgressListener> {
  // A terminal that reports no width (a bare pseudo-terminal) would make the spinner's redraws run away.
  const interactive = Boolean(stream.isTTY) && (stream.columns ?? 0) > 0 && !process.env.CI;
  const ora = interactive ? (await oraModule()).default : undefined;
  const color = interactive && !('NO_COLOR' in process.env);
  const running = new Set<string>();
  let done = 0;
  let spinner: Ora | undefined;

  const spinnerText = () => `${done}/${total} done · running ${[...running].join(', ')}`;
  const print = (line: string) => {
    if (spinner?.isSpinning) spinner.clear();
    stream.write(`${line}\n`);
    if (spinner?.isSpinning) spinner.render();
  };

  return {
    taskStarted(name) {
      running.add(name);
      if (ora) {
        // discardStdin would put the terminal in raw mode, where Ctrl-C is a byte, not SIGINT; ora
        // means to re-signal it, but never reads stdin (it listens without resuming it), so Ctrl-C
        // was lost for the whole run.
        spinner ??= ora({ stream, color: color ? 'cyan' : false, isEnabled: true, discardStdin: false });
        spinner.text = spinnerText();
        // It stops whenever nothing runs, as between a task and the dependents it is announced before.
        if (!spinner.isSpinning) spinner.start();
      } else {
        print(`▶ ${name} started`);
      }
    },
    taskFinished(task) {
      done++;
      running.delete(task.name);
      // Before the line: the spinner redrawn under it must not name the task as running any more.
      if (spinner) {
        if (running.size > 0) spinner.text = spinnerText();
        else spinner.stop();
      }
      if (task.status === 'ran') print(`✔ ${task.name} done in ${formatMs(task.ms)}`);
      else if (task.status === 'failed') print(`✖ ${task.name} failed: ${task.error?.message ?? task.reason}`);
      else if (task.status === 'blocked' || task.status === 'cancelled') print(`– ${task.name} ${task.status}: ${task.reason}`);
    },
    taskCachedOrSkipped() {
      done++;
      if (spinner?.isSpinning) spinner.text = spinnerText();
    },
    runFinished(report) {
      spinner?.stop();
      stream.write(`${renderTable(report, { color })}\n`);
    },
  };
}
