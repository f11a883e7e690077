import { randomUUID } from 'node:crypto';

/**
 * Identifies this process: a result stored with `expire.session()` is served only while this
 * id is the current one, that is for the life of a script run or of a notebook kernel.
 */
export const SESSION_ID = randomUUID();
