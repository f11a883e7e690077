import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import type { ModuleLoad } from './references.js';

/**
 * What a module load (`import(...)`, `require(...)`) can reach, as far as the literal text of its
 * path tells, as bundlers bound such imports (Rollup's dynamic-import-vars, Vite):
 * - `files`: a path starting `./`, `../` or `/` can load the files below its literal folder that
 *   match its pattern, each computed part standing for any text (across folders too):
 *   `'./plug-' + n + '.mjs'` loads `./plug-*.mjs`;
 * - `package`: a bare path whose package name is all literal (`'lodash/' + n`) loads that package;
 * - `builtin`: a Node built-in (`'node:' + n`), which does not count;
 * - undefined: nothing bounds it (`import(name)`, `import(base + '/x.js')`).
 */
export type LoadTarget =
  | {
    kind: 'files';
    pattern: string;
    /** A path without computed parts: the one file it names (resolved as a static import is). */
    exact?: string;
    /** The literal folder, below which the files it matches are. */
    folder: string;
    /** The text every name of a matching file (see loadNames) starts with, up to its first dot: the walk skips other entries of the folder. */
    start: string;
    matches(relative: string): boolean;
  }
  | { kind: 'package'; name: string }
  | { kind: 'builtin' };

const BUILTINS = new Set(builtinModules);

/** What a load in the module `file` can reach (see LoadTarget). */
export function loadTarget(file: string, load: ModuleLoad): LoadTarget | undefined {
  const [first, ...rest] = load.pieces as [string, ...string[]];
  if (/^\.{0,2}\//.test(first)) {
    const cut = first.lastIndexOf('/') + 1;
    const matcher = new RegExp(`^${[first.slice(cut), ...rest].map(escapeRegExp).join('.*')}$`, 's');
    return {
      kind: 'files',
      pattern: load.pieces.join('*'),
      ...(rest.length === 0 ? { exact: path.resolve(path.dirname(file), first) } : {}),
      folder: path.resolve(path.dirname(file), first.slice(0, cut)),
      start: first.slice(cut).split('.')[0]!,
      matches: (relative) => loadNames(relative).some((name) => matcher.test(name)),
    };
  }
  if (first.startsWith('node:')) return { kind: 'builtin' };
  const parts = first.split('/');
  const length = first.startsWith('@') ? 2 : 1;
  // The package's name is all literal when the literal text goes past it (`lodash/` + n), or is the whole path.
  if (rest.length > 0 && parts.length <= length) return undefined;
  const name = parts.slice(0, length).join('/');
  if (name === '' || name.includes(':') || parts.length < length) return undefined;
  return BUILTINS.has(name) ? { kind: 'builtin' } : { kind: 'package', name };
}

/** Files an import or require can load: JavaScript, TypeScript and JSON. */
const LOADABLE = /\.(?:[mc]?[jt]s|[jt]sx|json)$/;

/** The `.js` path of a TypeScript file, by which a TypeScript project (tsx, tsc) imports it. */
const JS_OF_TS: Record<string, string> = { '.ts': '.js', '.mts': '.mjs', '.cts': '.cjs', '.tsx': '.js' };

/**
 * The paths a load could name a file by (relative to the load's folder, with `/`): as it is,
 * without its extension, by its `.js` path when it is TypeScript, and by its folder when it is
 * an index file.
 */
function loadNames(relative: string): string[] {
  const extension = path.posix.extname(relative);
  const bare = relative.slice(0, relative.length - extension.length);
  const names = [relative, bare];
  const js = JS_OF_TS[extension];
  if (js) names.push(`${bare}${js}`);
  if (path.posix.basename(bare) === 'index') names.push(path.posix.dirname(relative) === '.' ? '' : path.posix.dirname(relative));
  return names;
}

/**
 * Every file below `folder` that a load can name (see LOADABLE), sorted, whose path starts with
 * `start`; none when there is no such folder. Folders named node_modules or starting with a dot
 * are not looked in: a load of a package is bounded by its name, and dot folders hold tools'
 * state (.git, a cache).
 */
export function loadableFiles(folder: string, start: string): string[] {
  const files: string[] = [];
  const walk = (directory: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(directory, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules' || (directory === folder && !entry.name.startsWith(start))) continue;
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (LOADABLE.test(entry.name) && (entry.isFile() || (entry.isSymbolicLink() && isFile(full)))) files.push(full);
    }
  };
  walk(folder);
  return files.sort();
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
