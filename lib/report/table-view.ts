import { type ArrowTableLike, isArqueroTable, isArrowTable, isPolarsFrame, tableRows } from '../cache/formats/tables.js';

/** A column as `show` and `export` describe it: its name and its type in its package's words. */
export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * A table result seen the same way whatever made it (an apache-arrow Table, an arquero table, a
 * nodejs-polars DataFrame, an array of row objects): what it is, its size, its schema, its rows.
 */
export interface TableView {
  /** `apache-arrow Table`, `arquero table`, `nodejs-polars DataFrame`, `array`. */
  label: string;
  numRows: number;
  columns: ColumnInfo[];
  /** The first `limit` rows (all of them without a limit) as plain objects, dates as `Date`s. */
  rows(limit?: number): Record<string, unknown>[];
}

/** How many rows are read to tell a column's type, and a value is rows. */
const SAMPLE_ROWS = 50;

/** An array whose items are all plain objects: the shape of table rows. */
export function isRows(value: unknown): value is Record<string, unknown>[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  // Checking the first rows is enough to choose a display; the table still shows any row.
  return value.slice(0, SAMPLE_ROWS).every((row) => typeof row === 'object' && row !== null && Object.getPrototypeOf(row) === Object.prototype);
}

/** The view of a table or of rows, or undefined for any other value. */
export function tableView(value: unknown): TableView | undefined {
  if (isArrowTable(value)) return arrowView(value);
  if (isArqueroTable(value)) {
    const names = value.columnNames();
    return {
      label: 'arquero table',
      numRows: value.numRows(),
      columns: names.map((name) => ({ name, type: arqueroType(value.column(name), value.objects({ limit: SAMPLE_ROWS }), name) })),
      rows: (limit) => tableRows(value, limit),
    };
  }
  if (isPolarsFrame(value)) {
    return {
      label: 'nodejs-polars DataFrame',
      numRows: value.height,
      columns: value.columns.map((name) => ({ name, type: polarsType(String(value.schema[name])) })),
      rows: (limit) => tableRows(value, limit),
    };
  }
  if (isRows(value)) {
    return {
      label: 'array',
      numRows: value.length,
      columns: columnsOf(value).map((name) => ({ name, type: jsType(value, name) })),
      rows: (limit = Infinity) => value.slice(0, limit),
    };
  }
  return undefined;
}

/** The keys of the first rows, in the order they first appear. */
export function columnsOf(rows: Record<string, unknown>[]): string[] {
  const columns = new Set<string>();
  for (const row of rows.slice(0, SAMPLE_ROWS)) for (const key of Object.keys(row)) columns.add(key);
  return [...columns];
}

/** Arrow's type ids (apache-arrow's `Type` enum, which flechette, arquero's Arrow code, shares). */
const ARROW_DATE = 8;
const ARROW_TIMESTAMP = 10;

function arrowView(table: ArrowTableLike): TableView {
  const fields = table.schema.fields;
  // apache-arrow gives dates and timestamps as epoch milliseconds: a person and a CSV want dates.
  const dated = fields.filter((field) => [ARROW_DATE, ARROW_TIMESTAMP].includes((field as { typeId?: number }).typeId ?? NaN)).map((field) => field.name);
  return {
    label: 'apache-arrow Table',
    numRows: table.numRows,
    columns: fields.map((field) => ({ name: field.name, type: String(field.type) })),
    rows: (limit) => {
      const rows = tableRows(table, limit);
      for (const row of rows) {
        for (const name of dated) if (typeof row[name] === 'number') row[name] = new Date(row[name]);
      }
      return rows;
    },
  };
}

/** `DataType(Datetime(ms,))` as `Datetime(ms)`, `DataType(Float64)` as `Float64`. */
function polarsType(text: string): string {
  return text.replace(/^DataType\((.*)\)$/, '$1').replace(/,\)/g, ')');
}

const TIME_UNITS = ['SECOND', 'MILLISECOND', 'MICROSECOND', 'NANOSECOND'];

/** An arquero column's Arrow type when it has one (a table read from Arrow), else the JS type of its values. */
function arqueroType(column: { type?: unknown } | undefined, sample: Record<string, unknown>[], name: string): string {
  const type = column?.type as { typeId?: number; bitWidth?: number; signed?: boolean; precision?: number; unit?: number; timezone?: string | null } | undefined;
  if (type && typeof type === 'object' && typeof type.typeId === 'number') {
    switch (type.typeId) {
      case 2: return `${type.signed === false ? 'Uint' : 'Int'}${type.bitWidth ?? ''}`;
      case 3: return ['Float16', 'Float32', 'Float64'][type.precision ?? 2] ?? 'Float';
      case 5: case 20: return 'Utf8';
      case 6: return 'Bool';
      case ARROW_DATE: return type.unit === 0 ? 'Date32<DAY>' : 'Date64<MILLISECOND>';
      case ARROW_TIMESTAMP: return `Timestamp<${TIME_UNITS[type.unit ?? 1] ?? 'MILLISECOND'}${type.timezone ? `, ${type.timezone}` : ''}>`;
      case -1: return 'Dictionary<Utf8>';
      default: break;
    }
  }
  return jsType(sample, name);
}

/** The JS type of a column's first non-null value: string, number, boolean, bigint, Date, object (or null). */
function jsType(rows: Record<string, unknown>[], name: string): string {
  const value = rows.slice(0, SAMPLE_ROWS).map((row) => row[name]).find((item) => item !== null && item !== undefined);
  if (value === undefined) return 'null';
  if (value instanceof Date) return 'Date';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
