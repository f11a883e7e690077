import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * littlepipes' own package: its folder, its version and the files it starts by path (a worker
 * thread's code, the module hooks, the command line). Found from this module's place by looking
 * up for package.json, not by a fixed number of folders: built, this code is bundled into
 * dist/ (scripts/bundle.mjs), where a module's file is not the one it was written in.
 */

const here = fileURLToPath(import.meta.url);
/** Running from source (lib/*.ts, as the tests do) or built (dist/*.js). */
export const FROM_SOURCE = path.extname(here) === '.ts';

/** The folder of littlepipes' package.json. */
export const OWN_ROOT = packageFolder(path.dirname(here));

/** The version in littlepipes' package.json. */
export const OWN_VERSION = readVersion(path.join(OWN_ROOT, 'package.json'));

/**
 * The file of one of littlepipes' own entry modules, named as under lib/ without an extension
 * (`run/executors/thread-worker`): lib/…ts from source, dist/…js built.
 */
export function ownModule(name: string): string {
  return FROM_SOURCE ? path.join(OWN_ROOT, 'lib', `${name}.ts`) : path.join(OWN_ROOT, 'dist', `${name}.js`);
}

/** The version a package.json gives, or `unknown`. */
export function readVersion(manifest: string): string {
  try {
    return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function packageFolder(start: string): string {
  for (let folder = start; ; folder = path.dirname(folder)) {
    if (fs.existsSync(path.join(folder, 'package.json'))) return folder;
    if (path.dirname(folder) === folder) throw new Error(`littlepipes: no package.json above ${start}`);
  }
}
