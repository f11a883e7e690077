import fs from 'node:fs';
import type { IHasher } from 'hash-wasm';
import { cryptoModule, hashWasmModule } from '../deferred-packages.js';

/**
 * SHA-256 in base64url, for definition fingerprints: small texts, where collision safety costs
 * nothing worth saving. Results use the faster `hashResult`.
 */
export function hashBytes(data: string | NodeJS.ArrayBufferView): string {
  // The one-shot form skips the Hash object: about 40% less time on small values.
  return cryptoModule().hash('sha256', data as string | Buffer, 'base64url');
}

/** Several parts as one unambiguous text to hash: each part is length-prefixed, so "ab"+"c" differs from "a"+"bc". */
export function joinParts(parts: readonly string[]): string {
  let joined = '';
  for (const part of parts) joined += `${part.length}:${part}`;
  return joined;
}

let xxh128: IHasher | undefined;
/** A hasher of its own for hashFile, which awaits between pieces: hashResult must not reset it midway. */
let fileHasher: IHasher | undefined;
/** File hashes, one after another, through fileHasher. */
let hashingFiles: Promise<unknown> = Promise.resolve();
let compiling: Promise<void> | undefined;

/**
 * Compiles the result hasher (about a millisecond), once. The cache store awaits it when it
 * opens; it is not done at import, because a module with top-level await cannot be `require()`d,
 * and notebooks (tslab) load packages with `require()`.
 */
export function prepareHashing(): Promise<void> {
  compiling ??= (async () => {
    const { createXXHash128 } = hashWasmModule();
    [xxh128, fileHasher] = await Promise.all([createXXHash128(), createXXHash128()]);
  })();
  return compiling;
}

/**
 * The content hash of a result's bytes, for early cutoff: XXH3-128, about 2.6 times as fast as
 * SHA-256 here (4.6 GB/s), so hashing a large result costs less than writing it. It only has to
 * tell a result from the previous one, as R's targets does with xxhash64; 128 bits make an
 * accidental collision negligible.
 */
export function hashResult(bytes: Uint8Array | readonly Uint8Array[]): string {
  if (!xxh128) throw new Error('littlepipes: hashResult() before prepareHashing() resolved'); // The store awaits it when it opens.
  xxh128.init();
  // Pieces hash as the bytes they make up together (a frame's parts are not joined to be hashed).
  if (bytes instanceof Uint8Array) xxh128.update(bytes);
  else for (const piece of bytes) xxh128.update(piece);
  return xxh128.digest('hex');
}

/**
 * The content hash (as hashResult) and size of a file, read in pieces into one reused buffer:
 * reading a large file into one new buffer cost over ten times as long here (each page of a
 * fresh allocation is faulted in).
 */
export function hashFile(file: string): Promise<{ hash: string; bytes: number }> {
  return throughFileHasher(async (hasher) => {
    const handle = await fs.promises.open(file, 'r');
    try {
      const buffer = Buffer.allocUnsafe(PIECE);
      let bytes = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        hasher.update(buffer.subarray(0, bytesRead));
        bytes += bytesRead;
      }
      return { hash: hasher.digest('hex'), bytes };
    } finally {
      await handle.close();
    }
  });
}

/** Pieces of files read and hashed at a time. */
const PIECE = 1024 * 1024;

/** Runs `use` with the file hasher, initialised, after every earlier use: it awaits between pieces, so uses must not interleave. */
function throughFileHasher<T>(use: (hasher: IHasher) => Promise<T>): Promise<T> {
  const hashing = hashingFiles.then(() => {
    if (!fileHasher) throw new Error('littlepipes: a file hashed before prepareHashing() resolved');
    fileHasher.init();
    return use(fileHasher);
  });
  hashingFiles = hashing.catch(() => {});
  return hashing;
}
