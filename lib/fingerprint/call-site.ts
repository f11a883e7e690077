import { type SourceMap, findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where a function was called from: a file and a 1-based line and column, in the source as written. */
export interface CallSite {
  file: string;
  line: number;
  column: number;
}

/**
 * Where a function was called from, as V8 recorded it: read when the site is first needed, as
 * V8's structured call site (formatting a whole stack trace through Node's source-map support
 * costs far more), and mapped to the source as written when the file has a source map
 * (TypeScript, compiled as it loads). One object per record: V8 puts the frames on it.
 */
export class RecordedCallSite {
  declare stack?: unknown;
  #site: CallSite | undefined | null = null;

  /** Records where the function `below` was called from. */
  constructor(below: Function) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 1;
    Error.captureStackTrace(this, below);
    Error.stackTraceLimit = limit;
  }

  /** The site; undefined when it cannot be known (a REPL line, eval). */
  read(): CallSite | undefined {
    if (this.#site === null) {
      this.#site = readSite(this);
      // The frames V8 keeps for `.stack` are not needed once read: thousands of tasks each had theirs.
      this.stack = undefined;
    }
    return this.#site;
  }
}

/** A number for each site read, the same for every record of one place in the code (see siteId). */
const ids = new Map<CallSite, number>();
/** The sites read, by file and position as V8 gives them: thousands of tasks are often made at one place. */
const byPosition = new Map<string, Map<number, CallSite | undefined>>();

/** A site's number: the same for every task registered at that place in the code, to key what they share. */
export function siteId(site: CallSite): number {
  return ids.get(site)!;
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
  let sites = byPosition.get(name);
  if (!sites) byPosition.set(name, (sites = new Map()));
  // Columns stay below 2^20 in any file a person writes; lines below 2^32, so the key stays exact.
  const position = line * 1_048_576 + column;
  if (sites.has(position)) return sites.get(position);
  const site = mappedSite(name, line, column);
  if (site) ids.set(site, ids.size);
  sites.set(position, site);
  return site;
}

/** The site in the source as written, from V8's file name and position. */
function mappedSite(name: string, line: number, column: number): CallSite | undefined {
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
