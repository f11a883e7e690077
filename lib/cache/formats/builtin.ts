import { streamModule } from '../../deferred-packages.js';
import type { AnyFormat, FieldsFormat, FileFormat, ResultFormat } from './format.js';
import { copyThatMade, importPeer } from './peers.js';
import { type ArqueroTableLike, type ArrowTableLike, type PolarsFrameLike, isArqueroTable, isArrowTable, isPolarsFrame } from './tables.js';

type ArrowModule = {
  [key: string]: unknown;
  Table: new (...args: never[]) => unknown;
  tableToIPC(table: unknown, type?: 'stream' | 'file'): Uint8Array;
  tableFromIPC(bytes: Uint8Array): unknown;
};

/** apache-arrow Tables, as Arrow IPC (stream) bytes: columnar, schema and types as they are. */
const arrowFormat: ResultFormat<ArrowTableLike> = {
  name: 'arrow',
  version: 1,
  handles: isArrowTable,
  encode: async (table) => (await copyThatMade<ArrowModule>(table, 'apache-arrow', 'Table', 'Caching an apache-arrow Table')).tableToIPC(table, 'stream'),
  decode: async (bytes) => (await importPeer<ArrowModule>('apache-arrow', 'Reading a cached apache-arrow Table')).tableFromIPC(bytes) as ArrowTableLike,
};

/** arquero tables, through arquero's own Arrow IPC writer and reader (it has its own Arrow code). */
const arqueroFormat: ResultFormat<ArqueroTableLike> = {
  name: 'arquero',
  version: 1,
  handles: isArqueroTable,
  encode: (table) => table.toArrowIPC({ format: 'stream' }),
  decode: async (bytes) => (await importPeer<{ fromArrow(bytes: Uint8Array): ArqueroTableLike }>('arquero', 'Reading a cached arquero table')).fromArrow(bytes),
};

type PolarsModule = { readIPC(source: Buffer | string): PolarsFrameLike };
const readingPolars = 'Reading a cached nodejs-polars DataFrame';

/**
 * nodejs-polars DataFrames, as the Arrow IPC file polars writes and reads natively: straight to
 * and from the cache's own file when the result is one DataFrame. In memory, the pieces polars
 * writes are kept as they come (its writeIPC() without a file joins them, which took longer
 * than writing them).
 */
const polarsFormat: FileFormat<PolarsFrameLike> = {
  name: 'polars',
  version: 1,
  handles: isPolarsFrame,
  encode: (frame) => {
    const pieces: Uint8Array[] = [];
    frame.writeIPC(new (streamModule().Writable)({
      write(piece: Uint8Array, _encoding, done) {
        pieces.push(piece);
        done();
      },
    }));
    return pieces;
  },
  decode: async (bytes) => (await importPeer<PolarsModule>('nodejs-polars', readingPolars)).readIPC(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
  file: {
    extension: '.ipc',
    write: (frame, file) => void frame.writeIPC(file),
    read: async (file) => (await importPeer<PolarsModule>('nodejs-polars', readingPolars)).readIPC(file),
  },
};

/** The value classes of @duckdb/node-api (`DuckDBDecimalValue`, `DuckDBListValue`, ...): plain fields on a prototype. */
const duckdbFormat: FieldsFormat<object> = {
  name: 'duckdb',
  version: 1,
  fields: true,
  handles: (value): value is object => /^DuckDB\w*Value$/.test(Object.getPrototypeOf(value)?.constructor?.name ?? ''),
  toFields: (value) => ({ class: Object.getPrototypeOf(value).constructor.name as string, fields: { ...value } }),
  fromFields: async (stored) => {
    const { class: name, fields } = stored as { class: string; fields: object };
    const duckdb = await importPeer<Record<string, { prototype: object } | undefined>>('@duckdb/node-api', `Reading a cached ${name}`);
    const type = duckdb[name];
    if (typeof type?.prototype !== 'object') throw new Error(`@duckdb/node-api has no class ${name} any more`);
    return Object.assign(Object.create(type.prototype) as object, fields);
  },
};

const ERROR_TYPES: Record<string, ErrorConstructor> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

interface ErrorFields {
  type: string;
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  hasCause: boolean;
  own: Record<string, unknown>;
}

/**
 * Errors with all a person reads of them: message, name, stack, cause, code and their own
 * fields (V8's serializer keeps only the first three). They come back as the built-in error type
 * they were, or their nearest built-in one, with the name they had.
 */
const errorFormat: FieldsFormat<Error> = {
  name: 'error',
  version: 1,
  fields: true,
  handles: (value): value is Error => value instanceof Error,
  toFields: (error): ErrorFields => {
    let type = 'Error';
    for (let prototype = Object.getPrototypeOf(error); prototype; prototype = Object.getPrototypeOf(prototype)) {
      const name = prototype.constructor?.name as string | undefined;
      if (name && ERROR_TYPES[name]?.prototype === prototype) {
        type = name;
        break;
      }
    }
    return { type, name: error.name, message: error.message, stack: error.stack, hasCause: 'cause' in error, cause: error.cause, own: { ...error } };
  },
  fromFields: (stored) => {
    const fields = stored as ErrorFields;
    const error = new (ERROR_TYPES[fields.type] ?? Error)(fields.message);
    const define = (key: string, value: unknown) => Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
    if (error.name !== fields.name) define('name', fields.name);
    define('stack', fields.stack);
    if (fields.hasCause) define('cause', fields.cause);
    return Object.assign(error, fields.own);
  },
};

/** The formats every pipeline has, after its own (so a pipeline's format can take over any of these values). */
export const BUILTIN_FORMATS: readonly AnyFormat[] = [arrowFormat, arqueroFormat, polarsFormat, duckdbFormat, errorFormat];
