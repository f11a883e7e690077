/**
 * Recognising the table values analysts return, without loading their packages: by the shape of
 * the value (its methods and fields), which holds for any installed copy of the package.
 */

/** An apache-arrow `Table`. */
export interface ArrowTableLike {
  schema: { fields: { name: string; type: { toString(): string }; nullable: boolean }[] };
  batches: unknown[];
  numRows: number;
  numCols: number;
  getChild(name: string): { get(index: number): unknown; toArray(): ArrayLike<unknown> } | null;
  slice(begin?: number, end?: number): ArrowTableLike;
  toArray(): { toJSON(): Record<string, unknown> }[];
}

/** An arquero table (ColumnTable). */
export interface ArqueroTableLike {
  numRows(): number;
  numCols(): number;
  columnNames(): string[];
  objects(options?: { limit?: number }): Record<string, unknown>[];
  toArrowIPC(options?: { format?: 'file' | 'stream' }): Uint8Array;
  column(name: string): { type?: string } | undefined;
}

/** A nodejs-polars `DataFrame`. */
export interface PolarsFrameLike {
  height: number;
  width: number;
  columns: string[];
  schema: Record<string, { toString(): string }>;
  writeIPC(destination?: string | NodeJS.WritableStream): Buffer;
  head(rows: number): PolarsFrameLike;
  toRecords(): Record<string, unknown>[];
}

export type TableKind = 'arrow' | 'arquero' | 'polars';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isArrowTable(value: unknown): value is ArrowTableLike {
  return isObject(value) && Array.isArray(value.batches) && isObject(value.schema) && Array.isArray((value.schema as { fields?: unknown }).fields) &&
    typeof value.getChild === 'function' && typeof value.numRows === 'number';
}

export function isArqueroTable(value: unknown): value is ArqueroTableLike {
  return isObject(value) && typeof value.columnNames === 'function' && typeof value.toArrowIPC === 'function' && typeof value.numRows === 'function';
}

export function isPolarsFrame(value: unknown): value is PolarsFrameLike {
  if (!isObject(value)) return false;
  try {
    return typeof value.writeIPC === 'function' && typeof value.toRecords === 'function' && typeof value.height === 'number';
  } catch {
    return false;
  }
}

/** Which kind of table a value is, or undefined when it is not one. */
export function tableKind(value: unknown): TableKind | undefined {
  if (isArrowTable(value)) return 'arrow';
  if (isArqueroTable(value)) return 'arquero';
  if (isPolarsFrame(value)) return 'polars';
  return undefined;
}

/** The rows of a table as plain objects (for `map` over a table, and for CSV and JSON). */
export function tableRows(value: ArrowTableLike | ArqueroTableLike | PolarsFrameLike, limit = Infinity): Record<string, unknown>[] {
  if (isArrowTable(value)) {
    const table = Number.isFinite(limit) ? value.slice(0, limit) : value;
    return table.toArray().map((row) => ({ ...row.toJSON() }));
  }
  if (isArqueroTable(value)) return value.objects(Number.isFinite(limit) ? { limit } : {});
  return (Number.isFinite(limit) ? value.head(limit) : value).toRecords();
}
