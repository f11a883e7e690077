import fs from 'node:fs';
import path from 'node:path';
import type { ColumnSource } from 'hyparquet-writer';
import { copyThatMade, requirePeer } from '../cache/formats/peers.js';
import { isArqueroTable, isArrowTable, isPolarsFrame } from '../cache/formats/tables.js';
import { cryptoModule, csvStringifyModule, parquetWriterModule } from '../deferred-packages.js';
import { InvalidOptionError } from '../errors.js';
import { suggest } from '../names.js';
import type { Profile } from '../plan/selection.js';
import { type TableView, tableView } from './table-view.js';
import { describeShape } from './value-summary.js';

/** Options of `pipeline.exportResult()`. */
export interface ExportOptions {
  /** The result as the run with this profile computed it (as for `getResult`). */
  profile?: string | Profile;
}

/** The file formats `export` writes, by the extension of the file (in any case). */
export const EXPORT_FORMATS = {
  '.arrow': 'Arrow IPC file',
  '.parquet': 'Parquet',
  '.csv': 'CSV with a header row',
  '.json': 'a JSON array of row objects',
} as const;

export type ExportExtension = keyof typeof EXPORT_FORMATS;

/**
 * What is wrong with writing to `file`, or undefined: its extension names no format, or its folder
 * does not exist. Checked before the result is read, so a typo costs nothing. `caller` starts the
 * message (`exportResult()`, `littlepipes export`).
 */
export function exportFileProblem(file: string, caller: string): string | undefined {
  if (typeof file !== 'string' || file === '') return `${caller}: the file must be a path such as "out/sales.parquet", got ${JSON.stringify(file) ?? String(file)}.`;
  const extension = path.extname(file).toLowerCase();
  if (!(extension in EXPORT_FORMATS)) {
    const guess = extension ? suggest(extension, Object.keys(EXPORT_FORMATS)) : undefined;
    return `${caller}: cannot tell the format of "${file}" from its extension${extension ? ` "${extension}"` : ' (it has none)'}. ` +
      (guess ? `Did you mean ${guess}? ` : '') +
      `Name the file with one of ${Object.entries(EXPORT_FORMATS).map(([ext, what]) => `${ext} (${what})`).join(', ')}.`;
  }
  const folder = path.dirname(path.resolve(file));
  if (!fs.existsSync(folder)) return `${caller}: the folder ${folder} does not exist. Create it, or write the file elsewhere.`;
  return undefined;
}

/**
 * Writes a table result (an apache-arrow Table, an arquero table, a nodejs-polars DataFrame) or
 * an array of row objects to `file`, in the format its extension names (see EXPORT_FORMATS), so
 * that other tools (DuckDB, pandas, a spreadsheet) open it. The file appears whole or not at all:
 * it is written beside its place, then renamed.
 *
 * How values are written: dates and timestamps as timestamps (Parquet, Arrow) or ISO 8601 strings
 * (CSV, JSON); bigints as 64-bit integers (Parquet, Arrow) or as their digits (CSV, and JSON numbers
 * with every digit, so that a JSON reader such as DuckDB gets the exact integer); numbers that are
 * all 32-bit integers as INT32 in Parquet (unless the table says they are floats), other numbers as
 * DOUBLE; null and undefined as null (an empty CSV field); other objects as JSON.
 *
 * @throws InvalidOptionError when the file or the value cannot be exported (the message starts with `caller`).
 */
export async function writeExport(value: unknown, file: string, caller: string, task: string): Promise<void> {
  const problem = exportFileProblem(file, caller);
  if (problem) throw new InvalidOptionError('file', problem);
  const view = tableView(value);
  if (!view) {
    throw new InvalidOptionError('file', `${caller}: the result of ${task} is ${Array.isArray(value) && value.length === 0 ? 'an empty array, which has no columns to write' : describeShape(value)}, not a table. ` +
      'Export writes apache-arrow Tables, arquero tables, nodejs-polars DataFrames and arrays of row objects (plain objects, one per row).');
  }
  const extension = path.extname(file).toLowerCase() as ExportExtension;
  const bytes = extension === '.arrow' ? await arrowFile(value, view)
    : extension === '.parquet' ? await parquetFile(view)
    : extension === '.csv' ? csvFile(view)
    : jsonFile(view);
  writeAtomically(file, bytes);
}

type ArrowModule = {
  [key: string]: unknown;
  Table: new (...args: never[]) => unknown;
  tableToIPC(table: unknown, type: 'file'): Uint8Array;
  tableFromJSON(rows: Record<string, unknown>[]): unknown;
};

async function arrowFile(value: unknown, view: TableView): Promise<Uint8Array> {
  if (isArrowTable(value)) return (await copyThatMade<ArrowModule>(value, 'apache-arrow', 'Table', 'Exporting an apache-arrow Table to .arrow')).tableToIPC(value, 'file');
  if (isArqueroTable(value)) return value.toArrowIPC({ format: 'file' });
  // writeIPC gives the IPC file format (the ARROW1 magic at both ends).
  if (isPolarsFrame(value)) return value.writeIPC();
  const arrow = requirePeer<ArrowModule>('apache-arrow', 'Exporting rows to .arrow');
  return arrow.tableToIPC(arrow.tableFromJSON(view.rows()), 'file');
}

async function parquetFile(view: TableView): Promise<Uint8Array> {
  const rows = view.rows();
  const columnData: ColumnSource[] = view.columns.map(({ name, type }) => {
    const data = rows.map((row) => row[name] ?? null);
    return { name, ...parquetColumn(data, type) };
  });
  const { parquetWriteBuffer } = await parquetWriterModule();
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

/** A column's values and Parquet type, chosen from its first non-null value and checked against all of them. */
function parquetColumn(data: unknown[], declared: string): Pick<ColumnSource, 'data' | 'type'> {
  const present = data.filter((item) => item !== null);
  const every = (test: (item: unknown) => boolean) => present.every(test);
  if (present.length === 0) return { data, type: 'STRING' };
  if (every((item) => typeof item === 'string')) return { data, type: 'STRING' };
  if (every((item) => typeof item === 'boolean')) return { data, type: 'BOOLEAN' };
  if (every((item) => typeof item === 'bigint')) return { data, type: 'INT64' };
  if (every((item) => item instanceof Date)) return { data, type: 'TIMESTAMP' };
  if (every((item) => typeof item === 'number')) {
    const integers = !/^Float|^Decimal/i.test(declared) && every((item) => Number.isInteger(item) && (item as number) >= -(2 ** 31) && (item as number) < 2 ** 31);
    return { data, type: integers ? 'INT32' : 'DOUBLE' };
  }
  // Mixed or nested values: as JSON text.
  return { data, type: 'JSON' };
}

function csvFile(view: TableView): Uint8Array {
  const names = view.columns.map((column) => column.name);
  const records = [names, ...view.rows().map((row) => names.map((name) => row[name]))];
  const { stringify } = csvStringifyModule();
  return Buffer.from(stringify(records, {
    cast: {
      boolean: (item) => String(item),
      date: (item) => item.toISOString(),
      bigint: (item) => item.toString(),
      object: (item) => jsonText(item),
    },
  }));
}

function jsonFile(view: TableView): Uint8Array {
  const rows = view.rows();
  return Buffer.from(rows.length === 0 ? '[]\n' : `[\n${rows.map((row) => jsonText(row)).join(',\n')}\n]\n`);
}

/**
 * JSON text of a value, with bigints as numbers of every digit (JSON has no limit on a number's
 * digits, JSON.stringify refuses bigints). Node 20 has no JSON.rawJSON, so they pass through as a
 * marked string with a random mark, which no real string can hold by chance, and are unquoted after.
 */
function jsonText(value: unknown): string {
  let mark: string | undefined;
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'bigint') return item;
    mark ??= `bigint-${cryptoModule().randomBytes(8).toString('hex')}:`;
    return `${mark}${item}`;
  });
  return mark === undefined ? text : text.replaceAll(new RegExp(`"${mark}(-?\\d+)"`, 'g'), '$1');
}

/** Writes beside the file, then renames: a reader never sees half a file, a failure leaves none. */
function writeAtomically(file: string, bytes: Uint8Array): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${cryptoModule().randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(temporary, bytes);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}
