import { inspect } from 'node:util';
import { tableModule } from '../deferred-packages.js';

/** Rows shown of a table-like result. */
const PREVIEW_ROWS = 10;
/** Columns shown of a table-like result. */
const PREVIEW_COLUMNS = 8;
/** Lines of output past which the rest is counted, not printed. */
const MAX_LINES = 60;

/**
 * A result as a person reads it in a terminal: a line saying what it is and how big, then the
 * value. Arrays of records (rows) show as a table of their first rows; anything else through
 * `util.inspect` with limits, so a million-item result prints a screenful, not a million lines.
 *
 * @example
 * console.log(summarizeValue(await pipeline.getResult('Clean')));
 * // array of 10,000 rows × 3 columns
 * // ┌──────┬───────┬───────┐ ...
 */
export function summarizeValue(value: unknown, options: { color?: boolean; width?: number } = {}): string {
  const width = options.width ?? 100;
  const body = isRows(value) ? rowsTable(value) : inspect(value, {
    depth: 3,
    maxArrayLength: 20,
    maxStringLength: 1000,
    breakLength: width,
    colors: options.color ?? false,
    compact: 3,
    sorted: false,
  });
  const lines = body.split('\n');
  const shown = lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `… ${lines.length - MAX_LINES} more lines`] : lines;
  return `${describeShape(value)}\n${shown.join('\n')}`;
}

/** `array of 3 items`, `Map of 12 entries`, `string of 5,000 characters`, `Float64Array of 1,000,000 items (7.6 MB)`. */
export function describeShape(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (isRows(value)) return `array of ${count(value.length)} rows × ${columnsOf(value).length} columns`;
    return `array of ${count(value.length)} items`;
  }
  if (typeof value === 'string') return `string of ${count(value.length)} characters`;
  if (ArrayBuffer.isView(value)) {
    const items = 'length' in value ? (value as unknown as { length: number }).length : value.byteLength;
    return `${value.constructor.name} of ${count(items)} items (${bytes(value.byteLength)})`;
  }
  if (value instanceof Map || value instanceof Set) return `${value.constructor.name} of ${count(value.size)} entries`;
  if (value instanceof Date) return 'Date';
  if (typeof value === 'object') return `object with ${count(Object.keys(value).length)} keys`;
  return typeof value;
}

/** Sizes as people say them: `850 B`, `12.3 KB`, `7.6 MB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** An array whose items are all plain objects: the shape of table rows. */
function isRows(value: unknown): value is Record<string, unknown>[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  // Checking the first rows is enough to choose a display; the table still shows any row.
  return value.slice(0, 50).every((row) => typeof row === 'object' && row !== null && Object.getPrototypeOf(row) === Object.prototype);
}

function columnsOf(rows: Record<string, unknown>[]): string[] {
  const columns = new Set<string>();
  for (const row of rows.slice(0, 50)) for (const key of Object.keys(row)) columns.add(key);
  return [...columns];
}

function rowsTable(rows: Record<string, unknown>[]): string {
  const all = columnsOf(rows);
  const columns = all.slice(0, PREVIEW_COLUMNS);
  const Table = tableModule();
  const table = new Table({ head: columns, style: { head: [], border: [], compact: true } });
  for (const row of rows.slice(0, PREVIEW_ROWS)) {
    table.push(columns.map((column) => cell(row[column])));
  }
  const more = [
    rows.length > PREVIEW_ROWS && `${count(rows.length - PREVIEW_ROWS)} more rows`,
    all.length > PREVIEW_COLUMNS && `${all.length - PREVIEW_COLUMNS} more columns`,
  ].filter(Boolean);
  return table.toString() + (more.length > 0 ? `\n… ${more.join(', ')}` : '');
}

function cell(value: unknown): string {
  const text = typeof value === 'string' ? value : inspect(value, { depth: 0, breakLength: Infinity, maxStringLength: 60 });
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
