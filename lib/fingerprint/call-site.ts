import { fileURLToPath } from 'node:url';

/** Where a function was called from: a file and a 1-based line and column. */
export interface CallSite {
  file: string;
  line: number;
  column: number;
}

/**
 * Records where the function `below` was called from. V8 records the frames now but formats
 * the text (applying source maps, so TypeScript run through tsx reports its own lines) only when
 * `.stack` is read, so this costs little until the site is needed.
 * @returns a function that reads the site, or undefined when it cannot be known (a REPL line, eval).
 */
export function recordCallSite(below: Function): () => CallSite | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, below);
  Error.stackTraceLimit = limit;
  let site: CallSite | undefined | null = null;
  return () => {
    if (site === null) site = parseFrame(holder.stack?.split('\n')[1]);
    return site;
  };
}

/** `    at name (/path/x.ts:11:4)` or `    at file:///path/x.mjs:3:4` → the site. */
function parseFrame(frame: string | undefined): CallSite | undefined {
  const match = frame?.match(/\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?\s*$/);
  if (!match) return undefined;
  const [, location, line, column] = match;
  const file = location!.startsWith('file://') ? fileURLToPath(location!) : location!;
  if (!file.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(file)) return undefined; // node:internal, <repl>...
  return { file, line: Number(line), column: Number(column) };
}
