// What this process runs in: questions about the host, not about a run or its report.

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
