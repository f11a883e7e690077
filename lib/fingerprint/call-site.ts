import { type SourceMap, findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where a function was called from: a file and a 1-based line and column, in the source as written. */
export interface CallSite {
  file: string;
  line: number;
  column: number;
}

/**
 * Records where the function `below` was called from. V8 records the frame now; it is read only
 * when the site is needed, as V8's structured call site (formatting a whole stack trace through
 * Node's source-map support costs far more), and mapped to the source as written when the file
 * has a source map (TypeScript, compiled as it loads).
 * @returns a function that reads the site, or undefined when it cannot be known (a REPL line, eval).
 */
export function recordCallSite(below: Function): () => CallSite | undefined {
  const holder: { stack?: unknown } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, below);
  Error.stackTraceLimit = limit;
  let site: CallSite | undefined | null = null;
  return () => {
    if (site === null) site = readSite(holder);
    return site;
  };
}

function readSite(holder: { stack?: unknown }): CallSite | undefined {
  const prepare = Error.prepareStackTrace;
  let frame: NodeJS.CallSite | undefined;
  try {
    // V8 builds `.stack` on first read, through prepareStackTrace: have it hand over the frames.
    Error.prepareStackTrace = (_, frames) => frames;
    frame = (holder.stack as NodeJS.CallSite[] | undefined)?.[0];
  } finally {
    Error.prepareStackTrace = prepare;
  }
  const name = frame?.getFileName();
  const line = frame?.getLineNumber();
  const column = frame?.getColumnNumber();
  if (!name || !line || !column) return undefined;
  const file = pathOf(name);
  if (!file.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(file)) return undefined; // node:internal, <repl>...
  const entry = sourceMapOf(name)?.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  if (entry?.originalSource !== undefined && entry.originalLine !== undefined && entry.originalColumn !== undefined) {
    return { file: pathOf(entry.originalSource), line: entry.originalLine + 1, column: entry.originalColumn + 1 };
  }
  return { file, line, column };
}

const paths = new Map<string, string>();

/** A frame's file name as a path; converted once per file, as thousands of tasks are often made in one. */
function pathOf(name: string): string {
  let file = paths.get(name);
  if (file === undefined) {
    file = name.startsWith('file://') ? fileURLToPath(name) : name;
    paths.set(name, file);
  }
  return file;
}

const sourceMaps = new Map<string, SourceMap | undefined>();

/** A file's source map, looked up once per file: thousands of tasks are often made in one file. */
function sourceMapOf(file: string): SourceMap | undefined {
  if (!sourceMaps.has(file)) sourceMaps.set(file, findSourceMap(file));
  return sourceMaps.get(file);
}
