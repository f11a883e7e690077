import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ownModule } from '../own-package.js';

const HOOKS = pathToFileURL(ownModule('typescript/hooks'));

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
