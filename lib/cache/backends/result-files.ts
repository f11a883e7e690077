import fs from 'node:fs';
import path from 'node:path';
import { CacheStoreError } from '../../errors.js';
import { hashFile, hashResult } from '../../fingerprint/hash.js';
import { sameStat, statKey } from '../../fingerprint/stat.js';
import { type EncodedValue, encodeFailure, frameOfFile } from '../codec.js';
import type { StoredFile, StoredValue } from '../entry.js';
import type { FileFormat } from '../formats/format.js';
import type { LargeValues } from './backend.js';

/**
 * Results too large for their entry, each in a file of its own in the cache folder
 * (`blobs/<pipeline>/<task>.<hash>.bin`): written to a temporary file, then renamed, so a file
 * under a result's name is always whole. The hash in the name is the content's.
 */
export class ResultFiles implements LargeValues {
  readonly apart = true;
  #folderReady: Promise<unknown> | undefined;

  constructor(readonly folder: string) {}

  async write(name: string, encoded: EncodedValue): Promise<{ hash: string; value: StoredValue }> {
    const temporary = await this.#temporary(name, '');
    try {
      const file = await fs.promises.open(temporary, 'w', 0o600);
      let hash: string;
      try {
        // All the pieces go to libuv in one gathered write, so the disk works while this thread
        // hashes (writeFile would write 512 KiB chunks, each started by this thread).
        const writing = writeAll(file, encoded.chunks);
        hash = hashResult(encoded.chunks);
        await writing;
      } finally {
        await file.close();
      }
      const blob = `${name}.${hash}.bin`;
      const final = path.join(this.folder, blob);
      await fs.promises.rename(temporary, final);
      return { hash, value: { blob, bytes: encoded.length, stat: statKey(await fs.promises.stat(final)) } };
    } catch (error) {
      await fs.promises.rm(temporary, { force: true });
      throw error;
    }
  }

  async writeFile(name: string, format: FileFormat, value: unknown): Promise<{ hash: string; value: StoredValue }> {
    const { extension } = format.file;
    const temporary = await this.#temporary(name, extension);
    try {
      try {
        await format.file.write(value, temporary);
      } catch (error) {
        throw encodeFailure(name, format, error);
      }
      await fs.promises.chmod(temporary, 0o600);
      const { hash, bytes } = await hashFile(temporary);
      const blob = `${name}.${hash}${extension}`;
      const final = path.join(this.folder, blob);
      await fs.promises.rename(temporary, final);
      const stored: StoredFile = { blob, bytes, format: { name: format.name, version: format.version }, stat: statKey(await fs.promises.stat(final)) };
      return { hash, value: stored };
    } catch (error) {
      await fs.promises.rm(temporary, { force: true });
      throw error;
    }
  }

  async read(task: string, value: StoredValue): Promise<Uint8Array> {
    if (!('blob' in value)) throw new CacheStoreError(`The cached result of ${task} is not in a file of this cache. Clear it with pipeline.clear(['${task}']) and run again.`);
    const file = path.join(this.folder, value.blob);
    try {
      const bytes = await fs.promises.readFile(file);
      return value.format ? frameOfFile(value.format.name, value.format.version, bytes) : bytes;
    } catch (error) {
      throw new CacheStoreError(`Cannot read the cached result of ${task} from ${file}: ${(error as Error).message}. Clear it with pipeline.clear(['${task}']) and run again.`, { cause: error });
    }
  }

  /**
   * Whether a result's file is as it was written: the same size, mtime, ctime and inode, as git's
   * index trusts a file. Any write to it, a copy over it or a rename onto it changes them, so
   * its bytes need not be hashed again to be trusted (reading a large result's every page only
   * to hash it doubled the time of loading an Arrow table, whose columns are otherwise not read).
   */
  async unchanged(value: StoredValue): Promise<boolean> {
    if (!('blob' in value) || !value.stat) return false;
    const stat = await fs.promises.stat(path.join(this.folder, value.blob)).catch(() => undefined);
    return stat !== undefined && sameStat(value.stat, stat);
  }

  fileOf(value: StoredValue): string | undefined {
    return 'blob' in value ? path.join(this.folder, value.blob) : undefined;
  }

  async remove(values: readonly StoredValue[]): Promise<void> {
    await Promise.all(values.map((value) => ('blob' in value ? fs.promises.rm(path.join(this.folder, value.blob), { force: true }) : undefined)));
  }

  async clear(): Promise<void> {
    await fs.promises.rm(this.folder, { recursive: true, force: true });
  }

  async #temporary(name: string, extension: string): Promise<string> {
    this.#folderReady ??= fs.promises.mkdir(this.folder, { recursive: true, mode: 0o700 });
    await this.#folderReady;
    return path.join(this.folder, `.${name}.${process.pid}.${Date.now()}.tmp${extension}`);
  }
}

/** Writes the pieces in turn, as one gathered write (writev), going on where a short write stopped. */
async function writeAll(file: fs.promises.FileHandle, pieces: readonly Uint8Array[]): Promise<void> {
  let rest = pieces.filter((piece) => piece.byteLength > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await file.writev(rest);
    let index = 0;
    while (index < rest.length && bytesWritten >= rest[index]!.byteLength) bytesWritten -= rest[index++]!.byteLength;
    rest = rest.slice(index);
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}
