import { ExecutorError } from '../../errors.js';

/**
 * Imports a package that only an executor needs (bullmq, ioredis): they are optional peer
 * dependencies, so a plain install of littlepipes works without them, and the executor that
 * needs one says which to install.
 */
export async function importOptional<T>(name: string, executor: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new ExecutorError(executor, `The ${executor} executor needs the package ${name}, which is not installed. Install it: npm install ${name}`, { cause: error });
  }
}
