import { LittlepipesError } from '../errors.js';

/**
 * The `code` of an error littlepipes threw on purpose (`ERR_UNKNOWN_TASK`...), or undefined for
 * any other error. A pipeline module may import another copy of littlepipes than the command
 * line's (a global install running a project's own), whose error classes are other classes: so
 * an error is recognised by its class's name along its prototype chain, and told apart by its
 * code, never by `instanceof` one of this copy's classes.
 */
export function littlepipesCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || typeof (error as { code?: unknown }).code !== 'string') return undefined;
  if (error instanceof LittlepipesError) return error.code;
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'LittlepipesError') return (error as LittlepipesError).code;
  }
  return undefined;
}
