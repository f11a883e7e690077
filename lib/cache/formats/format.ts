import { InvalidOptionError } from '../../errors.js';
import { describeValue } from '../../names.js';

/**
 * A way to cache values of a class that plain data cannot express: the value is turned into
 * bytes by `encode` and back by `decode`. Its `name` and `version` are stored with the bytes, so a
 * new version re-runs the task instead of decoding old bytes with new code.
 *
 * @example
 * const money = defineFormat({
 *   name: 'money', version: 1,
 *   handles: (value): value is Money => value instanceof Money,
 *   encode: (money) => Buffer.from(JSON.stringify([money.cents, money.currency])),
 *   decode: (bytes) => new Money(...JSON.parse(Buffer.from(bytes).toString())),
 * });
 * new Pipeline('Sales', { formats: [money] });
 */
export interface ResultFormat<T = unknown> {
  /** Unique among a pipeline's formats; stored with every value it encodes. */
  readonly name: string;
  /** A whole number: raise it when `encode` changes what it writes. */
  readonly version: number;
  /** Whether this format stores `value`: checked for every class instance in a result. */
  handles(value: unknown): value is T;
  /** The value's bytes: one buffer, or the pieces they are made of, in order (not joined, so not copied). */
  encode(value: T): Uint8Array | readonly Uint8Array[] | Promise<Uint8Array | readonly Uint8Array[]>;
  decode(bytes: Uint8Array): T | Promise<T>;
}

/**
 * The built-in formats of values that hold other values (DuckDB's lists and structs, errors with
 * a cause): they give their parts as plain fields, which the codec then encodes like the rest of
 * the result, tables and all.
 */
export interface FieldsFormat<T = unknown> {
  readonly name: string;
  readonly version: number;
  readonly fields: true;
  handles(value: unknown): value is T;
  toFields(value: T): unknown;
  fromFields(fields: unknown): T | Promise<T>;
}

export type AnyFormat = ResultFormat | FieldsFormat;

/**
 * A built-in format whose package writes and reads its own files faster than it makes bytes in
 * memory (nodejs-polars: its writeIPC(file) and readIPC(file) take about half the time of the
 * in-memory forms, and reading a large file into one buffer costs more than the read itself).
 * A result that is one such value, in the local cache, is kept as that file; nested in other
 * data, or in a shared store, it is a part of a frame like any other.
 */
export interface FileFormat<T = unknown> extends ResultFormat<T> {
  readonly file: {
    /** What the file's name ends with: its package may tell a path from bytes by it. */
    readonly extension: string;
    write(value: T, file: string): void | Promise<void>;
    read(file: string): T | Promise<T>;
  };
}

export function isFileFormat(format: AnyFormat): format is FileFormat {
  return typeof (format as FileFormat).file === 'object';
}

/** Every format defined in this process, by name: what a worker thread can use for the task it runs. */
const defined = new Map<string, ResultFormat>();

export function definedFormats(): ResultFormat[] {
  return [...defined.values()];
}

const FORMAT_KEYS = ['name', 'version', 'handles', 'encode', 'decode'];

/** Checks a format's fields and returns it, typed; see ResultFormat. */
export function defineFormat<T>(format: ResultFormat<T>): ResultFormat<T> {
  const where = 'defineFormat()';
  if (typeof format !== 'object' || format === null) throw new InvalidOptionError('format', `${where}: expected an object { name, version, handles, encode, decode }, got ${describeValue(format)}.`);
  const unknown = Object.keys(format).filter((key) => !FORMAT_KEYS.includes(key));
  if (unknown.length > 0) throw new InvalidOptionError('format', `${where}: unknown field ${unknown.map((key) => `"${key}"`).join(', ')}. A format has ${FORMAT_KEYS.join(', ')}.`);
  if (typeof format.name !== 'string' || !/^[A-Za-z][\w.-]*$/.test(format.name)) {
    throw new InvalidOptionError('format.name', `${where}: name must be a word of letters, digits, '-', '_' or '.', starting with a letter (e.g. 'money'), got ${describeValue(format.name)}.`);
  }
  if (!Number.isInteger(format.version) || format.version < 0) {
    throw new InvalidOptionError('format.version', `${where}: format "${format.name}" needs a version, a whole number of 0 or more (raise it when encode changes), got ${describeValue(format.version)}.`);
  }
  for (const key of ['handles', 'encode', 'decode'] as const) {
    if (typeof format[key] !== 'function') throw new InvalidOptionError(`format.${key}`, `${where}: format "${format.name}" needs ${key} to be a function, got ${describeValue(format[key])}.`);
  }
  const checked = Object.freeze({ ...format });
  defined.set(checked.name, checked as ResultFormat);
  return checked;
}

/** The `formats` option of a Pipeline: formats made by defineFormat, with distinct names. */
export function checkFormats(formats: unknown, where: string): ResultFormat[] {
  if (formats === undefined) return [];
  if (!Array.isArray(formats)) throw new InvalidOptionError('formats', `${where}: formats must be an array of formats made with defineFormat(), got ${describeValue(formats)}.`);
  const names = new Set<string>();
  return formats.map((format: unknown, index) => {
    const checked = defineFormat(format as ResultFormat);
    if (names.has(checked.name)) {
      throw new InvalidOptionError('formats', `${where}: two formats are named "${checked.name}" (formats[${index}] and an earlier one). Give each format its own name.`);
    }
    names.add(checked.name);
    return checked;
  });
}
