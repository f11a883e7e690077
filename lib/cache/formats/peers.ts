import { createRequire } from 'node:module';
import path from 'node:path';
import { PeerPackageError } from '../../errors.js';

/**
 * The table packages (apache-arrow, arquero, nodejs-polars, @duckdb/node-api) are the user's
 * optional peers: littlepipes loads the copy the user's project has installed, and only when a
 * result holds one of their values, so a pipeline that returns plain data loads none of them.
 *
 * A package with both an ES module and a CommonJS build is two copies with two sets of classes.
 * A value read back must be an instance of the classes the user's code holds, so the copy is
 * chosen by what the process already loaded: the CommonJS one when user code `require()`d it
 * (a CommonJS project, a tslab notebook), else the ES module (what `import` gives).
 */
const ownRequire = createRequire(import.meta.url);

/** A require that resolves from the project (the working folder) first, then from littlepipes' own place. */
function projectRequire(): NodeJS.Require {
  return createRequire(path.join(process.cwd(), 'package.json'));
}

function resolveFromProject(name: string): string | undefined {
  for (const require of [projectRequire(), ownRequire]) {
    try {
      return require.resolve(name);
    } catch {
      // Not there: try the next place.
    }
  }
  return undefined;
}

/** Packages whose CommonJS copy littlepipes loaded itself (see requirePeer): their presence tells nothing of the user's. */
const requiredByUs = new Set<string>();

/** Whether user code has `require()`d this package: then its CommonJS copy is the one it holds. */
function requiredAlready(name: string): string | undefined {
  if (requiredByUs.has(name)) return undefined;
  const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`;
  return Object.keys(ownRequire.cache).find((file) => file.includes(marker));
}

const loaded = new Map<string, unknown>();

/** The package, synchronously (its CommonJS build): for encoding, where any copy reads a value. */
export function requirePeer<T>(name: string, purpose: string): T {
  const key = `require:${name}`;
  if (loaded.has(key)) return loaded.get(key) as T;
  const file = resolveFromProject(name);
  if (!file) throw new PeerPackageError(name, purpose);
  if (!requiredAlready(name)) requiredByUs.add(name);
  const module = createRequire(file)(file) as T;
  loaded.set(key, module);
  return module;
}

/** The package as user code holds it (see above): for decoding, so that values come back as the user's classes. */
export async function importPeer<T>(name: string, purpose: string): Promise<T> {
  if (requiredAlready(name)) return requirePeer<T>(name, purpose);
  const key = `import:${name}`;
  if (loaded.has(key)) return loaded.get(key) as T;
  let module: T;
  try {
    module = (await import(name)) as T;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    // littlepipes installed elsewhere (a global command): the project's own copy.
    const file = resolveFromProject(name);
    if (!file) throw new PeerPackageError(name, purpose);
    module = requirePeer<T>(name, purpose);
  }
  loaded.set(key, module);
  return module;
}

/**
 * The copy of a package whose class made `value` (its ES module or its CommonJS build): only
 * that copy writes such a value right; an apache-arrow copy misreads another copy's tables.
 * When neither class made it (a copy from another folder), the ES module.
 */
export async function copyThatMade<T extends { [key: string]: unknown }>(value: object, name: string, className: string, purpose: string): Promise<T> {
  const made = (module: T) => value instanceof (module[className] as new (...args: never[]) => unknown);
  const imported = await importPeer<T>(name, purpose);
  if (made(imported)) return imported;
  const required = requirePeer<T>(name, purpose);
  return made(required) ? required : imported;
}
