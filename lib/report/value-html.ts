import { inspect } from 'node:util';
import { tableView } from './table-view.js';
import { counted } from '../words.js';
import { tableSize } from './value-summary.js';

/** Rows and columns shown of a table in a notebook cell. */
const PREVIEW_ROWS = 10;
const PREVIEW_COLUMNS = 20;

/**
 * A table result (apache-arrow, arquero, nodejs-polars, or an array of row objects) as HTML for a
 * notebook: a `<table>` of its first rows, captioned with what it is, its size and its schema.
 * Undefined for any other value, which a notebook shows as text.
 *
 * @example
 * const html = valueToHTML(await pipeline.getResult('Clean'));
 * // <table class="littlepipes-result"><caption>apache-arrow Table of 1,000 rows × 3 columns<br>id: Int32 ...
 */
export function valueToHTML(value: unknown): string | undefined {
  const view = tableView(value);
  if (!view) return undefined;
  const columns = view.columns.slice(0, PREVIEW_COLUMNS);
  const schema = view.columns.map((column) => `${escapeHTML(column.name)}: ${escapeHTML(column.type)}`).join(', ');
  const more = [
    view.numRows > PREVIEW_ROWS && counted(view.numRows - PREVIEW_ROWS, 'more row'),
    view.columns.length > PREVIEW_COLUMNS && counted(view.columns.length - PREVIEW_COLUMNS, 'more column'),
  ].filter(Boolean);
  const head = `<tr>${columns.map((column) => `<th>${escapeHTML(column.name)}</th>`).join('')}</tr>`;
  const body = view.rows(PREVIEW_ROWS).map((row) => `<tr>${columns.map((column) => `<td>${escapeHTML(cellText(row[column.name]))}</td>`).join('')}</tr>`);
  const caption = `${escapeHTML(view.label)} of ${tableSize(view)}<br><small>${schema}</small>`;
  const foot = more.length > 0 ? `<tfoot><tr><td colspan="${columns.length}">… ${more.join(', ')}</td></tr></tfoot>` : '';
  return `<table class="littlepipes-result"><caption style="text-align:left">${caption}</caption><thead>${head}</thead><tbody>${body.join('')}</tbody>${foot}</table>`;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  return inspect(value, { depth: 1, breakLength: Infinity, maxStringLength: 200 });
}

function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}
