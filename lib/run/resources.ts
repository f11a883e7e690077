import { setTimeout as sleep } from 'node:timers/promises';
import { ResourceError } from '../errors.js';

/**
 * How long a resource may take to close before the run ends without it: a close() that hangs (a
 * pool waiting for a connection that never returns) would otherwise keep execute() from ever
 * resolving, and the report of a cancelled run from being printed.
 */
export const RESOURCE_CLOSE_LIMIT_MS = 10_000;

/** Makes a resource: a database connection, a client, a pool. May be asynchronous. */
export type ResourceFactory<T = unknown> = () => T | Promise<T>;

/**
 * The resources of one run: each made once, when the first task that uses it starts, and
 * released when the run ends (its `close()`, `dispose()`, `end()` or `Symbol.asyncDispose`,
 * whichever it has). Resources are never cached nor part of a fingerprint.
 */
export class RunResources {
  readonly #factories: ReadonlyMap<string, ResourceFactory>;
  readonly #made = new Map<string, Promise<unknown>>();
  readonly #values = new Map<string, unknown>();

  constructor(factories: ReadonlyMap<string, ResourceFactory>) {
    this.#factories = factories;
  }

  /** Makes the resources a task uses (those not made yet); rejects with a ResourceError naming the one that failed. */
  prepare(task: string, names: readonly string[]): Promise<void> | undefined {
    let pending: Promise<unknown>[] | undefined;
    for (const name of names) {
      let made = this.#made.get(name);
      if (!made) {
        const factory = this.#factories.get(name);
        if (!factory) return Promise.reject(new ResourceError(name, `${task} uses the resource "${name}", which the pipeline does not provide. Add pipeline.provide('${name}', () => ...).`));
        made = Promise.resolve()
          .then(factory)
          .then(
            (value) => {
              this.#values.set(name, value);
              return value;
            },
            (error: unknown) => {
              throw new ResourceError(name, `The resource "${name}" could not be made (for ${task}): ${(error as Error)?.message ?? String(error)}`, { cause: error });
            },
          );
        this.#made.set(name, made);
      }
      if (!this.#values.has(name)) (pending ??= []).push(made);
    }
    return pending && Promise.all(pending).then(() => undefined);
  }

  /** A resource made for this run. */
  get(name: string): unknown {
    return this.#values.get(name);
  }

  /**
   * Releases every resource made, the last made first. A release that fails, or that has not
   * finished within RESOURCE_CLOSE_LIMIT_MS, is a warning, not a failed run.
   */
  async release(): Promise<void> {
    for (const [name, value] of [...this.#values].reverse()) {
      const limit = new AbortController();
      try {
        const closed = await Promise.race([
          releaseOne(value).then(() => true),
          sleep(RESOURCE_CLOSE_LIMIT_MS, false, { signal: limit.signal }),
        ]);
        if (!closed) {
          process.emitWarning(`littlepipes: the resource "${name}" did not finish closing within ${RESOURCE_CLOSE_LIMIT_MS / 1000} s; the run ends without waiting for it. Check what its close() waits for.`);
        }
      } catch (error) {
        process.emitWarning(`littlepipes: closing the resource "${name}" failed: ${(error as Error)?.message ?? String(error)}`);
      } finally {
        limit.abort();
      }
    }
    this.#values.clear();
    this.#made.clear();
  }
}

async function releaseOne(value: unknown): Promise<void> {
  if (typeof value !== 'object' && typeof value !== 'function') return;
  if (value === null) return;
  const resource = value as Record<string | symbol, unknown>;
  const asyncDispose = (Symbol as { asyncDispose?: symbol }).asyncDispose;
  for (const key of [asyncDispose, Symbol.for('nodejs.dispose'), 'close', 'dispose', 'end', 'closeSync', 'disconnectSync']) {
    if (key !== undefined && typeof resource[key] === 'function') {
      await (resource[key] as () => unknown).call(value);
      return;
    }
  }
}
