import { type ProgressListener, terminalProgress } from './progress.js';
import { valueToHTML } from './value-html.js';
import { summarizeValue } from './value-summary.js';

/** The part of tslab's display API littlepipes uses (tslab's `display` object). */
export interface NotebookDisplay {
  html(html: string): void;
}

/** What the tslab kernel puts on `globalThis` before it runs any cell. */
interface TslabGlobal {
  require?: (id: string) => { display?: Partial<NotebookDisplay> } | undefined;
}

/**
 * The display of the tslab notebook kernel this process is, or undefined when it is not one.
 *
 * tslab's executor sets `globalThis.__tslab__` to `{ exports, require }` before it runs a cell:
 * `require` is the one cells use, and it answers `'tslab'` with the kernel's own module, whose
 * `display` sends display_data to the cell being executed. littlepipes is loaded from the
 * project's node_modules, where `import 'tslab'` finds no tslab, or another copy that is not
 * wired to the kernel, so it asks the kernel's own require. The global is set in the kernel
 * process only: a script a notebook starts with `child_process` is not in a notebook.
 */
export function notebookDisplay(): NotebookDisplay | undefined {
  const tslab = (globalThis as { __tslab__?: TslabGlobal }).__tslab__;
  if (typeof tslab?.require !== 'function') return undefined;
  const display = tslab.require('tslab')?.display;
  if (typeof display?.html !== 'function') return undefined;
  return { html: (html) => display.html!(html) };
}

/** Whether this process is a notebook kernel (tslab), where cells are re-run and output is not a terminal. */
export function inNotebook(): boolean {
  return notebookDisplay() !== undefined;
}

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
