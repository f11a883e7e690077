import { inspect } from 'node:util';
import { tableModule } from '../deferred-packages.js';
import { counted } from '../words.js';
import { type TableView, tableView } from './table-view.js';

/** Rows shown of a table-like result. */
const PREVIEW_ROWS = 10;
/** Columns shown of a table-like result. */
const PREVIEW_COLUMNS = 8;
/** Schema lines shown of a table-like result: past them, the rest are counted. */
const MAX_SCHEMA_LINES = 20;
/** Lines of output past which the rest is counted, not printed. */
const MAX_LINES = 60;

/**
 * A result as a person reads it in a terminal: a line saying what it is and how big, then the
 * value. Tables (apache-arrow, arquero, nodejs-polars) and arrays of records (rows) show their
 * schema, then their first rows as a table; anything else through `util.inspect` with limits, so
 * a million-item result prints a screenful, not a million lines.
 *
 * @example
 * console.log(summarizeValue(await pipeline.getResult('Clean')));
 * // apache-arrow Table of 10,000 rows × 3 columns
 * // id: Int32
 * // ...
 * // ┌──────┬───────┬───────┐ ...
 */
export function summarizeValue(value: unknown, options: { color?: boolean; width?: number } = {}): string {
  const width = options.width ?? 100;
  const view = tableView(value);
  const body = view ? `${schemaLines(view)}\n${rowsTable(view)}` : inspect(value, {
    depth: 3,
    maxArrayLength: 20,
    maxStringLength: 1000,
    breakLength: width,
    colors: options.color ?? false,
    compact: 3,
    sorted: false,
  });
  const lines = body.split('\n');
  const shown = lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `… ${counted(lines.length - MAX_LINES, 'more line')}`] : lines;
  return `${describeShape(value)}\n${shown.join('\n')}`;
}

/** `apache-arrow Table of 1,000 rows × 3 columns`, `array of 3 items`, `Map of 12 entries`, `string of 5,000 characters`, `Float64Array of 1,000,000 items (7.6 MB)`. */
export function describeShape(value: unknown): string {
  if (value === null) return 'null';
  const view = tableView(value);
  if (view) return `${view.label} of ${tableSize(view)}`;
  if (Array.isArray(value)) return `array of ${counted(value.length, 'item')}`;
  if (typeof value === 'string') return `string of ${counted(value.length, 'character')}`;
  if (ArrayBuffer.isView(value)) {
    const items = 'length' in value ? (value as unknown as { length: number }).length : value.byteLength;
    return `${value.constructor.name} of ${counted(items, 'item')} (${bytes(value.byteLength)})`;
  }
  if (value instanceof Map || value instanceof Set) return `${value.constructor.name} of ${counted(value.size, 'entry', 'entries')}`;
  if (value instanceof Date) return 'Date';
  if (typeof value === 'object') return `object with ${counted(Object.keys(value).length, 'key')}`;
  return typeof value;
}

/** Sizes as people say them: `850 B`, `12.3 KB`, `7.6 MB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** `1,000 rows × 1 column`. */
export function tableSize(view: TableView): string {
  return `${counted(view.numRows, 'row')} × ${counted(view.columns.length, 'column')}`;
}

/** `column: type` lines, the first MAX_SCHEMA_LINES of them; the rest are counted. */
function schemaLines(view: TableView): string {
  const lines = view.columns.slice(0, MAX_SCHEMA_LINES).map((column) => `${column.name}: ${column.type}`);
  if (view.columns.length > MAX_SCHEMA_LINES) lines.push(`… ${counted(view.columns.length - MAX_SCHEMA_LINES, 'more column')}`);
  return lines.join('\n');
}

function rowsTable(view: TableView): string {
  const all = view.columns.map((column) => column.name);
  const columns = all.slice(0, PREVIEW_COLUMNS);
  const Table = tableModule();
  const table = new Table({ head: columns, style: { head: [], border: [], compact: true } });
  for (const row of view.rows(PREVIEW_ROWS)) {
    table.push(columns.map((column) => cell(row[column])));
  }
  const more = [
    view.numRows > PREVIEW_ROWS && counted(view.numRows - PREVIEW_ROWS, 'more row'),
    all.length > PREVIEW_COLUMNS && counted(all.length - PREVIEW_COLUMNS, 'more column'),
  ].filter(Boolean);
  return table.toString() + (more.length > 0 ? `\n… ${more.join(', ')}` : '');
}

function cell(value: unknown): string {
  const text = typeof value === 'string' ? value : inspect(value, { depth: 0, breakLength: Infinity, maxStringLength: 60 });
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
