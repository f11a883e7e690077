import { cryptoModule } from './deferred-packages.js';

let id: string | undefined;

/**
 * Identifies this process: a result stored with `expire.session()` is served only while this
 * id is the current one, that is for the life of a script run or of a notebook kernel. Made on
 * first use, so that importing littlepipes does not load node:crypto.
 */
export function sessionId(): string {
  return (id ??= cryptoModule().randomUUID());
}
