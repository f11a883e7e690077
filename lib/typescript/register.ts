import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(import.meta.url);
/** The hooks beside this file: .ts when littlepipes runs from source (tests), .js when built. */
const HOOKS = pathToFileURL(path.join(path.dirname(here), `hooks${path.extname(here)}`));

let registered = false;

/**
 * Lets this thread import a project's TypeScript files (see hooks.ts), with stacks and call sites
 * mapped to the files as written. Once registered, every module this thread loads passes Node's
 * hooks thread: what the caller will need is best imported before.
 */
export function registerTypeScript(): void {
  if (registered) return;
  registered = true;
  process.setSourceMapsEnabled(true);
  register(HOOKS);
}
