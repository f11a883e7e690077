// The build's second step (npm run build): esbuild bundles littlepipes' own modules from lib/ into
// dist/, an entry file for each way in and shared chunks in dist/chunks/, with the dependencies
// left as imports (they load from node_modules as ever). tsc, the first step, writes only the
// type declarations. A process then loads a few files instead of a hundred modules: loading them
// one by one was most of `import 'littlepipes'` and of a cached `littlepipes run`, Node 20 having
// no compile cache (issue 15; see bench/startup.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

/** The ways in: the package's exports, the command line, and what is started by its file (lib/own-package.ts). */
const ENTRIES = ['index', 'report/pictures/index', 'cli/main', 'run/executors/thread-worker', 'typescript/hooks'];

/**
 * Node's own fs, os and path, taken with process.getBuiltinModule instead of an ES import.
 * Node 20 makes an ES module of a builtin the first time one is imported, reading every export:
 * fs's ReadStream getter then loads all of node:stream (about 3 ms of every import of littlepipes,
 * which uses no stream at import; issue 15). lib/ imports these three only as
 * the default export; a named import of one fails the build here ("No matching export").
 */
const builtinsWithoutFacade = {
  name: 'builtins-without-facade',
  setup(build) {
    build.onResolve({ filter: /^node:(fs|os|path)$/ }, (args) => ({ path: args.path, namespace: 'builtin' }));
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `export default process.getBuiltinModule(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

const result = await build({
  plugins: [builtinsWithoutFacade],
  absWorkingDir: root,
  entryPoints: Object.fromEntries(ENTRIES.map((name) => [name, `lib/${name}.ts`])),
  outdir: dist,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Not keepNames: it wraps every function made at run time in a call that sets its name, a
  // cost in every task's path (issue 15). Names only change where two modules declare the same
  // one, which the check below catches for classes, whose names errors and messages show.
  keepNames: false,
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
});

// Every class in the bundle has the name it was declared with in lib/ (error names, `Task.name`).
const declared = new Set();
for (const entry of fs.readdirSync(path.join(root, 'lib'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
  for (const [, name] of fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8').matchAll(/\bclass\s+([A-Za-z_$][\w$]*)/g)) declared.add(name);
}
for (const file of Object.keys(result.metafile.outputs).filter((name) => name.endsWith('.js'))) {
  for (const [, name] of fs.readFileSync(path.resolve(root, file), 'utf8').matchAll(/\bclass\s+([A-Za-z_$][\w$]*)\s*(?:extends\b|\{)/g)) {
    if (!declared.has(name)) throw new Error(`bundle: ${file} has a class named ${name}, declared otherwise in lib/: rename one of the classes that share its name (or that refer to themselves, see lib/task.ts)`);
  }
}

// What an earlier build wrote that this one did not (tsc's per-module files, old chunks).
const written = new Set(Object.keys(result.metafile.outputs).map((file) => path.resolve(root, file)));
for (const entry of fs.readdirSync(dist, { recursive: true, withFileTypes: true })) {
  const file = path.join(entry.parentPath, entry.name);
  if (entry.isFile() && /\.js(\.map)?$/.test(entry.name) && !written.has(file)) fs.rmSync(file);
}
