import type { KeyvStoreAdapter } from 'keyv';
import { CacheStoreError, InvalidOptionError } from '../../errors.js';
import { describeValue } from '../../names.js';
import type { LeaseBackend } from '../leases.js';

/** The URL schemes a store may be given as, and the package each needs. */
export const STORE_SCHEMES = {
  'redis:': '@keyv/redis',
  'rediss:': '@keyv/redis',
  'postgres:': '@keyv/postgres',
  'postgresql:': '@keyv/postgres',
} as const;

/** Chunks of `chunk` bytes that a value of `size` bytes is stored in (each under a key, or a row, of its own). */
export function chunkCount(size: number, chunk: number): number {
  return Math.max(1, Math.ceil(size / chunk));
}

/** Results too large to sit inside their entry, stored as bytes under keys of their own. */
export interface LargeValues {
  write(key: string, bytes: Buffer): Promise<void>;
  /** The bytes, or undefined when (some of) the value is not there. */
  read(key: string, size: number): Promise<Buffer | undefined>;
  remove(values: readonly { key: string; size: number }[]): Promise<void>;
}

/** A store a team shares: Keyv's adapter for the entries, leases, and large values beside them. */
export interface SharedStore {
  readonly adapter: KeyvStoreAdapter;
  readonly leases: LeaseBackend;
  readonly values: LargeValues;
  close(): Promise<void>;
}

/**
 * Checks a store URL and says where it points, without its password (for messages).
 * An unknown scheme, or text that is not a URL, is an InvalidOptionError.
 */
export function parseStoreUrl(url: string, where: string): { scheme: keyof typeof STORE_SCHEMES; shown: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidOptionError('store', `${where}: store must be a URL (${schemes()}) or a Keyv store adapter, got ${describeValue(url)}.`);
  }
  if (!(parsed.protocol in STORE_SCHEMES)) {
    throw new InvalidOptionError('store', `${where}: store URL "${redactUrl(parsed)}" has the scheme "${parsed.protocol}", which littlepipes does not know; use one of ${schemes()}, or pass a Keyv store adapter.`);
  }
  return { scheme: parsed.protocol as keyof typeof STORE_SCHEMES, shown: redactUrl(parsed) };
}

/**
 * Imports an optional package: they are peer dependencies, so that a project without a team
 * cache installs neither; a missing one is a CacheStoreError that says what to install.
 */
export async function loadOptional<T>(name: string, load: () => Promise<T>, url: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(name)) {
      throw new CacheStoreError(`The store ${redactUrl(url)} needs the package ${name}, which is not installed. Install it in your project: npm install ${name}`, { cause: error });
    }
    throw error;
  }
}

function schemes(): string {
  return Object.keys(STORE_SCHEMES).map((scheme) => `${scheme}//`).join(', ');
}

/** A URL as it may be shown: its password as `***` (a text that is no URL is shown as it is). */
export function redactUrl(url: URL | string): string {
  let copy: URL;
  try {
    copy = new URL(String(url));
  } catch {
    return String(url);
  }
  if (copy.password) copy.password = '***';
  return copy.href.replace(/\/$/, '');
}
