import { type ProgressListener, alsoTell, silentProgress } from '../run/events.js';
import { notebookDisplay } from '../host.js';
import { terminalProgress } from './progress.js';
import { valueToHTML } from './value-html.js';
import { summarizeValue } from './value-summary.js';

/**
 * Progress in a notebook cell, or undefined outside a notebook: plain lines on stdout, never a
 * spinner, then the report as an HTML table. A kernel started from a terminal inherits that
 * terminal, so its stdout and stderr claim to be one, and a spinner's cursor moves and redraws
 * would land in the cell as escape codes. The lines go to stdout because notebooks paint stderr
 * as an error.
 */
export async function notebookProgress(total: number): Promise<ProgressListener | undefined> {
  const display = notebookDisplay();
  if (!display) return undefined;
  const lines = await terminalProgress(total, plainStream(process.stdout));
  return {
    taskStarted: (name) => lines.taskStarted(name),
    taskFinished: (task) => lines.taskFinished(task),
    taskCachedOrSkipped: (task) => lines.taskCachedOrSkipped?.(task),
    runFinished: (report) => display.html(report.toHTML()),
  };
}

/** What a run shows as it goes: nothing when `show` is false, else the notebook's progress or the terminal's; and `events` are told too. */
export async function runProgress(show: boolean, events: Partial<ProgressListener> | undefined, total: number): Promise<ProgressListener> {
  const display = show ? ((await notebookProgress(total)) ?? (await terminalProgress(total))) : silentProgress;
  return events ? alsoTell(display, events) : display;
}

/** `stream` as one that is not a terminal, so progress writes plain lines without colour. */
function plainStream(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  return { isTTY: false, columns: 0, write: (text: string) => stream.write(text) } as unknown as NodeJS.WriteStream;
}

/**
 * Shows a result in a notebook cell: a table (apache-arrow, arquero, nodejs-polars, or an array of
 * row objects) as an HTML table of its first rows under its size and schema, any other value as
 * its summary. Outside a notebook it prints the summary `littlepipes show` prints.
 *
 * @example
 * showResult(await pipeline.getResult('Clean'));
 */
export function showResult(value: unknown): void {
  const display = notebookDisplay();
  if (!display) {
    process.stdout.write(`${summarizeValue(value)}\n`);
    return;
  }
  display.html(valueToHTML(value) ?? `<pre>${summarizeValue(value).replace(/[&<>]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[char]!)}</pre>`);
}
