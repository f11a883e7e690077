import { v8Module } from '../deferred-packages.js';
import { UncacheableResultError } from '../errors.js';
import { BUILTIN_FORMATS } from './formats/builtin.js';
import { type AnyFormat, type FieldsFormat, type FileFormat, type ResultFormat, isFileFormat } from './formats/format.js';
import { isPolarsFrame } from './formats/tables.js';

/**
 * Results are stored with V8's own serializer (the structured clone format): it round-trips Date,
 * Map, Set, BigInt, RegExp, typed arrays, Buffer, undefined and circular references exactly, and is
 * several times faster than JSON-based codecs on large values. It turns class instances into
 * plain objects, though, so a result holding one is written as a frame instead (see Codec):
 * each instance that a format handles (a table, a DuckDB value, an error, a class of the user's)
 * is stored by that format, the rest by V8. Like `structuredClone`, it leaves out properties
 * keyed by symbols.
 *
 * A frame is `LPF1`, the length of its header, the header (V8-serialized: the value with each
 * formatted instance replaced by a marker, and the format, version and size of each binary
 * part), then the parts' bytes as their formats wrote them: an Arrow table's IPC bytes unchanged.
 * V8's bytes begin with 0xFF, so the two cannot be confused, and caches written before frames
 * existed read as they did.
 */
const FRAME_MAGIC = Buffer.from('LPF1', 'latin1');
/** The key of a marker object in a frame's header; no result's own object has a key starting with NUL. */
const MARK = '\u0000littlepipes';

interface FrameHeader {
  root: unknown;
  parts: { format: string; version: number; length: number }[];
  /** Every format used, with its version, binary or not. */
  formats: Record<string, number>;
}

/** A marker in a frame's header: a binary part by index, or a fields format's fields. */
type Marker = { [MARK]: string; version: number; part?: number; fields?: unknown };

/**
 * A result in bytes, and the formats (name → version) its frame used; none for plain data. The
 * bytes are kept as the pieces they were written in (a frame's header, then each part as its
 * format wrote it): the store writes and hashes them in turn. Joining a large table's parts into
 * one buffer first cost more than writing them, and twice the memory.
 */
export class EncodedValue {
  #joined: Buffer | undefined;
  readonly length: number;

  constructor(
    readonly chunks: readonly Uint8Array[],
    readonly formats?: Record<string, number>,
  ) {
    let length = 0;
    for (const chunk of chunks) length += chunk.byteLength;
    this.length = length;
  }

  /** All the bytes in one buffer: joined on first use, and a view (no copy) when there is one piece. */
  get bytes(): Buffer {
    if (this.#joined) return this.#joined;
    const only = this.chunks.length === 1 ? this.chunks[0]! : undefined;
    if (only) this.#joined = Buffer.isBuffer(only) ? only : Buffer.from(only.buffer, only.byteOffset, only.byteLength);
    else this.#joined = Buffer.concat(this.chunks, this.length);
    return this.#joined;
  }
}

/** Prototypes whose instances V8 writes and reads back as they were. */
const PLAIN_PROTOTYPES = new Set<object | null>([
  null,
  Object.prototype,
  Array.prototype,
  Date.prototype,
  RegExp.prototype,
  Map.prototype,
  Set.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Buffer.prototype,
  Number.prototype,
  String.prototype,
  Boolean.prototype,
  ...[
    Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  ].map((type) => type.prototype),
]);

/**
 * Encodes and decodes results with a pipeline's formats (its own first, then the built-in
 * ones). Plain data takes V8's path, synchronously, as fast as V8 is; only a result that holds
 * class instances is framed.
 */
export class Codec {
  readonly #formats: readonly AnyFormat[];
  readonly #byName: Map<string, AnyFormat>;

  constructor(formats: readonly ResultFormat[] = []) {
    this.#formats = [...formats, ...BUILTIN_FORMATS];
    this.#byName = new Map(this.#formats.map((format) => [format.name, format]).reverse() as [string, AnyFormat][]);
  }

  /** The formats' names, with versions, for messages: `money@1, arrow@1, ...`. */
  get formatNames(): string[] {
    return [...new Set(this.#formats.map((format) => this.#byName.get(format.name)!))].map((format) => `${format.name}@${format.version}`);
  }

  /** The version of each format now, to tell a cached value written by another version (see formatChange). */
  versionOf(name: string): number | undefined {
    return this.#byName.get(name)?.version;
  }

  /**
   * The bytes of `value`, or an UncacheableResultError naming `task` and the path of the first
   * part no format can store. Synchronous for plain data; a promise when a format is asynchronous.
   */
  encode(value: unknown, task: string, root = 'result'): EncodedValue | Promise<EncodedValue> {
    if (!needsFrame(value)) return new EncodedValue([v8Module().serialize(value)]);
    return this.#encodeFrame(value, task, root, false)!;
  }

  /** The first part of `value` that no format can store, as a path from `root` and what is wrong with it; undefined when all of it is fine. */
  findUncacheable(value: unknown, root = 'result'): { path: string; problem: string } | undefined {
    if (!needsFrame(value)) return undefined;
    try {
      this.#encodeFrame(value, '', root, true);
      return undefined;
    } catch (error) {
      if (error instanceof UncacheableResultError) return { path: error.path, problem: error.problem };
      throw error;
    }
  }

  #encodeFrame(value: unknown, task: string, root: string, checkOnly: boolean): EncodedValue | Promise<EncodedValue> | undefined {
    const parts: { format: ResultFormat; value: unknown }[] = [];
    const formats: Record<string, number> = {};
    const copies = new Map<object, unknown>();
    const problem = (path: PathStep, text: string) => new UncacheableResultError(task, render(path), text, this.formatNames);

    const copy = (item: unknown, path: PathStep): unknown => {
      if (typeof item === 'function') throw problem(path, 'is a function');
      if (typeof item === 'symbol') throw problem(path, 'is a symbol');
      if (typeof item !== 'object' || item === null) return item;
      const done = copies.get(item);
      if (done !== undefined) return done;
      const prototype = Object.getPrototypeOf(item);
      if (prototype === Array.prototype) {
        const array = item as unknown[];
        const out: unknown[] = new Array(array.length);
        copies.set(item, out);
        // Holes stay holes, as V8 keeps them.
        for (let index = 0; index < array.length; index++) if (index in array) out[index] = copy(array[index], { parent: path, key: `[${index}]` });
        return out;
      }
      // A polars DataFrame is a Proxy on a plain object, whose keys are its columns.
      if ((prototype === Object.prototype || prototype === null) && !isPolarsFrame(item)) {
        const out: Record<string, unknown> = prototype === null ? Object.create(null) : {};
        copies.set(item, out);
        for (const key of Object.keys(item)) out[key] = copy((item as Record<string, unknown>)[key], { parent: path, key: propertyKey(key) });
        return out;
      }
      if (prototype === Map.prototype) {
        const out = new Map<unknown, unknown>();
        copies.set(item, out);
        for (const [key, member] of item as Map<unknown, unknown>) {
          out.set(copy(key, { parent: path, key: `<key ${keyLabel(key)}>` }), copy(member, { parent: path, key: `.get(${keyLabel(key)})` }));
        }
        return out;
      }
      if (prototype === Set.prototype) {
        const out = new Set<unknown>();
        copies.set(item, out);
        for (const member of item as Set<unknown>) out.add(copy(member, { parent: path, key: '<set member>' }));
        return out;
      }
      if (PLAIN_PROTOTYPES.has(prototype) && prototype !== Object.prototype && prototype !== null) return item;
      const format = this.#formatFor(item);
      if (!format) throw problem(path, unhandledProblem(item));
      formats[format.name] = format.version;
      let marker: Marker;
      if (isFields(format)) {
        marker = { [MARK]: format.name, version: format.version };
        copies.set(item, marker);
        marker.fields = copy(format.toFields(item), path);
      } else {
        marker = { [MARK]: format.name, version: format.version, part: parts.length };
        copies.set(item, marker);
        parts.push({ format, value: item });
      }
      return marker;
    };

    const root_ = copy(value, { parent: undefined, key: root });
    if (checkOnly) return undefined;
    const encodings = parts.map(({ format, value: part }) => {
      try {
        return format.encode(part);
      } catch (error) {
        throw formatFailure(task, format, 'encode', error);
      }
    });
    const frame = (bytes: Part[]): EncodedValue => {
      const header: FrameHeader = {
        root: root_,
        parts: parts.map(({ format }, index) => ({ format: format.name, version: format.version, length: partLength(bytes[index]!) })),
        formats,
      };
      return new EncodedValue(frameChunks(v8Module().serialize(header), bytes), formats);
    };
    if (encodings.some((encoding) => encoding instanceof Promise)) {
      return Promise.all(encodings.map((encoding, index) => Promise.resolve(encoding).catch((error: unknown) => {
        throw formatFailure(task, parts[index]!.format, 'encode', error);
      }))).then(checkedParts(task, parts)).then(frame);
    }
    return frame(checkedParts(task, parts)(encodings));
  }

  /**
   * The value of `bytes`: synchronous for plain data, a promise for a frame. A frame part written
   * by a format this codec does not have, or by another version of it, is an error that names
   * the format (see formatChange: such an entry is not fresh, so this is met only by a race).
   */
  decode(bytes: Uint8Array): unknown {
    if (!isFrame(bytes)) return v8Module().deserialize(bytes);
    return this.#decodeFrame(bytes);
  }

  async #decodeFrame(bytes: Uint8Array): Promise<unknown> {
    const { header, parts } = readFrame(bytes);
    const decodedParts = await Promise.all(header.parts.map(async (part, index) => {
      const format = this.#checkedFormat(part.format, part.version);
      if (isFields(format)) throw new Error(`the frame has a binary part for the fields format "${part.format}"`);
      return format.decode(parts[index]!);
    }));
    // Synchronous wherever it can be: a header of 200,000 row objects around one table must not
    // pay a promise per object. Only a fields format whose fromFields returns a promise (it
    // imports its package) makes the containers above it wait.
    const restored = new Map<object, unknown>();
    const restore = (item: unknown): unknown => {
      if (typeof item !== 'object' || item === null) return item;
      if (restored.has(item)) return restored.get(item);
      const prototype = Object.getPrototypeOf(item);
      if ((prototype === Object.prototype || prototype === null) && Object.hasOwn(item, MARK)) {
        const marker = item as Marker;
        const format = this.#checkedFormat(marker[MARK], marker.version);
        if (marker.part !== undefined) {
          const value = decodedParts[marker.part];
          restored.set(item, value);
          return value;
        }
        const fields = restore(marker.fields);
        const make = (ready: unknown) => (format as FieldsFormat).fromFields(ready);
        const value = fields instanceof Promise ? fields.then(make) : make(fields);
        restored.set(item, value);
        if (value instanceof Promise) void value.then((done) => restored.set(item, done), () => {});
        return value;
      }
      restored.set(item, item);
      const waits: Promise<unknown>[] = [];
      if (Array.isArray(item)) {
        for (let index = 0; index < item.length; index++) {
          const member = item[index];
          if (typeof member !== 'object' || member === null) continue;
          const value = restore(member);
          if (value instanceof Promise) waits.push(value.then((done) => (item[index] = done)));
          else item[index] = value;
        }
      } else if (item instanceof Map || item instanceof Set) {
        // Restored in order, then put back in the same order.
        const members = item instanceof Map ? [...item].flat() : [...item];
        const values = members.map(restore);
        const rebuild = (done: unknown[]) => {
          item.clear();
          if (item instanceof Map) for (let index = 0; index < done.length; index += 2) item.set(done[index], done[index + 1]);
          else for (const value of done) item.add(value);
          return item;
        };
        return values.some((value) => value instanceof Promise) ? Promise.all(values).then(rebuild) : rebuild(values);
      } else if (prototype === Object.prototype || prototype === null) {
        const record = item as Record<string, unknown>;
        for (const key of Object.keys(record)) {
          const member = record[key];
          if (typeof member !== 'object' || member === null) continue;
          const value = restore(member);
          if (value instanceof Promise) waits.push(value.then((done) => (record[key] = done)));
          else record[key] = value;
        }
      }
      return waits.length === 0 ? item : Promise.all(waits).then(() => item);
    };
    return restore(header.root);
  }

  /** The format that keeps `value` as a file of its own, when the whole value is one of its values (see FileFormat). */
  fileFormatOf(value: unknown): FileFormat | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const format = this.#formatFor(value);
    return format && isFileFormat(format) ? format : undefined;
  }

  /** The value a FileFormat wrote to `file`, once the format and its version are checked to be this codec's. */
  async readFile(name: string, version: number, file: string): Promise<unknown> {
    const format = this.#checkedFormat(name, version);
    if (!isFileFormat(format)) throw new FormatMismatch(`it is a file of the format "${name}", which keeps no files`);
    return format.file.read(file);
  }

  #formatFor(value: object): AnyFormat | undefined {
    for (const format of this.#formats) {
      if (format.handles(value)) return format;
    }
    return undefined;
  }

  #checkedFormat(name: string, version: number): AnyFormat {
    const format = this.#byName.get(name);
    if (!format) throw new FormatMismatch(`it was written by the format "${name}", which this pipeline does not have (pass it in the formats option)`);
    if (format.version !== version) throw new FormatMismatch(`it was written by version ${version} of the format "${name}", and the pipeline has version ${format.version}`);
    return format;
  }
}

/**
 * The bytes of a file a FileFormat wrote, as the frame the same value would have been written
 * in: what code that compares or hands on stored bytes (early cutoff) reads.
 */
export function frameOfFile(name: string, version: number, bytes: Uint8Array): Buffer {
  const header: FrameHeader = { root: { [MARK]: name, version, part: 0 }, parts: [{ format: name, version, length: bytes.byteLength }], formats: { [name]: version } };
  return frameBytes(v8Module().serialize(header), [bytes]);
}

/** The error for a format that failed to write a value of a task's result. */
export function encodeFailure(task: string, format: ResultFormat, error: unknown): UncacheableResultError {
  return formatFailure(task, format, 'encode', error);
}

/** A frame names a format, or a version of one, that the codec does not have. */
export class FormatMismatch extends Error {}

/** The formats (name → version) a stored value's bytes were written with; none for plain data. */
export function framedFormats(bytes: Uint8Array): Record<string, number> | undefined {
  return isFrame(bytes) ? readFrame(bytes).header.formats : undefined;
}

function isFields(format: AnyFormat): format is FieldsFormat {
  return (format as FieldsFormat).fields === true;
}

function isFrame(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === FRAME_MAGIC[0] && bytes[1] === FRAME_MAGIC[1] && bytes[2] === FRAME_MAGIC[2] && bytes[3] === FRAME_MAGIC[3];
}

/**
 * Each part starts at a multiple of 8 bytes from the frame's start: Arrow reads its columns as
 * typed arrays over the stored bytes, which must be aligned to their element size.
 */
function align(offset: number): number {
  return (offset + 7) & ~7;
}

/** Zeros that pad each piece of a frame to a multiple of 8 bytes. */
const PADDING = Buffer.alloc(8);

/** A frame's pieces in order: magic and header length, header, then each part, each padded to 8 bytes. */
function frameChunks(header: Buffer, parts: readonly Part[]): Uint8Array[] {
  const start = Buffer.alloc(8);
  FRAME_MAGIC.copy(start, 0);
  start.writeUInt32LE(header.length, 4);
  const chunks: Uint8Array[] = [start, header];
  let offset = 8 + header.length;
  const pad = () => {
    const gap = align(offset) - offset;
    if (gap > 0) chunks.push(PADDING.subarray(0, gap));
    offset += gap;
  };
  pad();
  for (const part of parts) {
    if (part instanceof Uint8Array) chunks.push(part);
    else for (const piece of part) chunks.push(piece);
    offset += partLength(part);
    pad();
  }
  return chunks;
}

function frameBytes(header: Buffer, parts: readonly Uint8Array[]): Buffer {
  return new EncodedValue(frameChunks(header, parts)).bytes;
}

function readFrame(bytes: Uint8Array): { header: FrameHeader; parts: Uint8Array[] } {
  // Bytes from a shared pool (a small value read from base64) may start anywhere: aligned, a copy.
  const source = bytes.byteOffset % 8 === 0 ? bytes : Uint8Array.prototype.slice.call(bytes);
  const view = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  const headerLength = view.readUInt32LE(4);
  const header = v8Module().deserialize(view.subarray(8, 8 + headerLength)) as FrameHeader;
  const parts: Uint8Array[] = [];
  let offset = align(8 + headerLength);
  for (const part of header.parts) {
    if (offset + part.length > view.length) throw new Error(`its ${part.format} part is cut short (${Math.max(0, view.length - offset)} of ${part.length} bytes)`);
    // A view, not a copy: Arrow reads its columns straight out of these bytes.
    parts.push(view.subarray(offset, offset + part.length));
    offset = align(offset + part.length);
  }
  if (offset < view.length) throw new Error(`it has ${view.length - offset} bytes more than its parts`);
  return { header, parts };
}

/** Checks that each part came back as bytes: a format's encode that returns something else is named. */
function checkedParts(task: string, parts: { format: ResultFormat }[]) {
  return (encoded: unknown[]): Part[] => encoded.map((bytes, index) => {
    if (bytes instanceof Uint8Array) return bytes;
    if (Array.isArray(bytes) && bytes.every((piece) => piece instanceof Uint8Array)) return bytes as Uint8Array[];
    throw formatFailure(task, parts[index]!.format, 'encode', new Error(`it returned ${bytes === null ? 'null' : typeof bytes}, not a Uint8Array, a Buffer or an array of them`));
  });
}

/** A part's bytes as its format gave them: one buffer or its pieces. */
type Part = Uint8Array | readonly Uint8Array[];

function partLength(part: Part): number {
  if (part instanceof Uint8Array) return part.byteLength;
  let length = 0;
  for (const piece of part) length += piece.byteLength;
  return length;
}

function formatFailure(task: string, format: ResultFormat, step: string, error: unknown): UncacheableResultError {
  const detail = error instanceof UncacheableResultError ? error.message : (error as Error)?.message ?? String(error);
  return new UncacheableResultError(task, 'result', `could not be stored: the format "${format.name}" failed to ${step} it (${detail.replace(/\.$/, '')})`);
}

/**
 * Whether `value` needs a frame: it holds an object V8 would not bring back as it was (a class
 * instance, an error), a function or a symbol. Iterative, so deep structures cannot overflow the
 * stack, and with the checks inlined, since a large result has millions of members; only objects
 * that hold objects are remembered (to stop at cycles and shared parts).
 */
export function needsFrame(value: unknown): boolean {
  if (typeof value === 'function' || typeof value === 'symbol') return true;
  if (typeof value !== 'object' || value === null) return false;
  const stack: object[] = [value];
  const expanded = new Set<object>();
  while (stack.length > 0) {
    const current = stack.pop()!;
    const base = stack.length;
    const prototype = Object.getPrototypeOf(current);
    if (prototype === Array.prototype) {
      const array = current as unknown[];
      for (let index = 0; index < array.length; index++) {
        const item = array[index];
        if (typeof item === 'object') {
          if (item !== null) stack.push(item);
        } else if (typeof item === 'function' || typeof item === 'symbol') return true;
      }
    } else if (prototype === Object.prototype || prototype === null) {
      for (const key in current) {
        const item = (current as Record<string, unknown>)[key];
        if (typeof item === 'object') {
          if (item !== null) stack.push(item);
        } else if (typeof item === 'function' || typeof item === 'symbol') return true;
      }
    } else if (prototype === Map.prototype || prototype === Set.prototype) {
      const members = prototype === Map.prototype ? [...(current as Map<unknown, unknown>)].flat() : [...(current as Set<unknown>)];
      for (const item of members) {
        if (typeof item === 'object') {
          if (item !== null) stack.push(item);
        } else if (typeof item === 'function' || typeof item === 'symbol') return true;
      }
    } else if (!PLAIN_PROTOTYPES.has(prototype)) {
      return true;
    }
    if (stack.length > base) {
      // It holds objects: look into them only the first time it is met.
      if (expanded.has(current)) stack.length = base;
      else expanded.add(current);
    }
  }
  return false;
}

/** Why no format stores an instance. */
function unhandledProblem(value: object): string {
  const className = Object.getPrototypeOf(value)?.constructor?.name || 'an unknown class';
  if (value instanceof Promise) return 'is a Promise (await it before returning)';
  if (value instanceof WeakMap || value instanceof WeakSet) return `is a ${className}, which cannot be stored`;
  return `is an instance of ${className}, which would come back as a plain object`;
}

/** Where a value sits inside the result, built only when a problem is reported. */
interface PathStep {
  parent: PathStep | undefined;
  key: string;
}

function render(step: PathStep | undefined): string {
  const keys: string[] = [];
  for (let at = step; at; at = at.parent) keys.push(at.key);
  return keys.reverse().join('');
}

function propertyKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function keyLabel(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : String(key);
}

/** A codec with the built-in formats only: for values that are not a pipeline's results (map items' hashes). */
const BUILTIN_CODEC = new Codec();

/**
 * V8's serializer is not canonical: it writes an equal value in different bytes depending on how
 * V8 holds it. An array read back from the cache is "holey" and is written in the sparse form,
 * one built by a task in the dense form; a whole number in an array of doubles is written as a
 * double, elsewhere as an integer. So a task that re-runs to the same value can hash differently.
 * A value read back and written again always comes out in the same form (what reading makes of
 * it), keeping the order of keys, Map and Set entries: the one form to compare or hash by. In a
 * frame, the header is put in that form and the parts are kept: formats write them
 * deterministically (Arrow IPC of the same table is the same bytes).
 */
export function canonicalBytes(bytes: Uint8Array): Buffer {
  if (!isFrame(bytes)) return v8Module().serialize(v8Module().deserialize(bytes));
  const { header, parts } = readFrame(bytes);
  return frameBytes(v8Module().serialize(header), parts);
}

/** The value's bytes in canonical form (see canonicalBytes): for hashes that must not depend on how V8 holds it. */
export function encodeCanonical(value: unknown, task: string): Buffer | Promise<Buffer> {
  const encoding = BUILTIN_CODEC.encode(value, task);
  // Plain data synchronously: a mapped task hashes each of its items this way.
  return encoding instanceof Promise ? encoding.then((encoded) => canonicalBytes(encoded.bytes)) : canonicalBytes(encoding.bytes);
}

/** The first part of `value` that would not survive the cache with the built-in formats (see Codec.findUncacheable). */
export function findUncacheable(value: unknown, root = 'result'): { path: string; problem: string } | undefined {
  return BUILTIN_CODEC.findUncacheable(value, root);
}

/** Whether a result's bytes are a frame (formats wrote parts of it). */
export function isFramed(bytes: Uint8Array): boolean {
  return isFrame(bytes);
}

/** Plain data's bytes (no formats): for values littlepipes itself writes. */
export function encodeValue(value: unknown): Buffer {
  return v8Module().serialize(value);
}
