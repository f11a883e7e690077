import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import pl from 'nodejs-polars';
import { showResult, valueToHTML } from '../lib/index.js';
import { describeShape, summarizeValue } from '../lib/report/value-summary.js';

/**
 * A table result as people see it: in a terminal (`littlepipes show`, the shell's peek) its
 * class, rows × columns, schema and first rows as a table; in a notebook the same as HTML.
 */

function arrowTable(rows = 3): arrow.Table {
  return new arrow.Table({
    id: arrow.vectorFromArray(Array.from({ length: rows }, (_, index) => rows - index), new arrow.Int32()),
    when: arrow.vectorFromArray(Array.from({ length: rows }, (_, index) => index * 86_400_000), new arrow.TimestampMillisecond('UTC')),
    name: arrow.vectorFromArray(Array.from({ length: rows }, (_, index) => (index === 1 ? null : `<b>${index}</b>`)), new arrow.Utf8()),
  });
}

test('an apache-arrow Table shows its class and size, its schema, then its first 10 rows, dates as dates', () => {
  const text = summarizeValue(arrowTable(1000));
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 4), ['apache-arrow Table of 1,000 rows × 3 columns', 'id: Int32', 'when: Timestamp<MILLISECOND, UTC>', 'name: Utf8']);
  assert.match(text, /│ 1000 +│ 1970-01-01T00:00:00\.000Z +│ <b>0<\/b> +│\n│ 999 +│ 1970-01-02T00:00:00\.000Z +│ null +│/);
  assert.equal(lines.filter((line) => /^│ \d+ /.test(line)).length, 10, 'ten rows');
  assert.equal(lines.at(-1), '… 990 more rows');
});

test('arquero tables and polars DataFrames show their schema: arquero in JS types (Arrow types once read from Arrow), polars its dtypes', () => {
  const table = aq.table({ id: [1, 2], name: ['a', null], when: [new Date(0), null] });
  assert.deepEqual(summarizeValue(table).split('\n').slice(0, 4), ['arquero table of 2 rows × 3 columns', 'id: number', 'name: string', 'when: Date']);
  const fromArrow = aq.fromArrow(aq.table({ id: [1, 2], ratio: [0.5, 1.5] }).toArrowIPC());
  assert.deepEqual(summarizeValue(fromArrow).split('\n').slice(1, 3), ['id: Int8', 'ratio: Float64']);
  const frame = pl.DataFrame({ id: pl.Series('id', [3, 1], pl.Int32), name: ['x', 'y'], when: pl.Series('when', [new Date(0), new Date(1000)], pl.Datetime('ms')) });
  const text = summarizeValue(frame);
  assert.deepEqual(text.split('\n').slice(0, 4), ['nodejs-polars DataFrame of 2 rows × 3 columns', 'id: Int32', 'name: String', 'when: Datetime(ms)']);
  assert.match(text, /│ 3 +│ x +│ 1970-01-01T00:00:00\.000Z +│\n│ 1 +│ y +│ 1970-01-01T00:00:01\.000Z +│/);
  assert.equal(describeShape(frame), 'nodejs-polars DataFrame of 2 rows × 3 columns');
});

test('an array of row objects shows a schema from each column\'s first non-null value', () => {
  const rows = [{ a: null, b: 'x', c: 1n, d: true, e: { nested: 1 } }, { a: new Date(0), b: 'y', c: 2n, d: false, e: null }];
  assert.deepEqual(summarizeValue(rows).split('\n').slice(0, 6), ['array of 2 rows × 5 columns', 'a: Date', 'b: string', 'c: bigint', 'd: boolean', 'e: object']);
  assert.equal(summarizeValue([1, 2, 3]).split('\n')[0], 'array of 3 items', 'an array of numbers is no table');
});

test('valueToHTML gives a table its caption (class, size, schema) and first 10 rows, escaped; other values undefined', () => {
  const html = valueToHTML(arrowTable(12))!;
  assert.match(html, /^<table[^>]*><caption[^>]*>apache-arrow Table of 12 rows × 3 columns<br><small>id: Int32, when: Timestamp&lt;MILLISECOND, UTC&gt;, name: Utf8<\/small><\/caption>/);
  assert.match(html, /<thead><tr><th>id<\/th><th>when<\/th><th>name<\/th><\/tr><\/thead>/);
  assert.equal(html.match(/<tr>/g)?.length, 1 + 10 + 1, 'the header, ten rows and the "more" line');
  assert.match(html, /<tr><td>12<\/td><td>1970-01-01T00:00:00\.000Z<\/td><td>&lt;b&gt;0&lt;\/b&gt;<\/td><\/tr>/);
  assert.doesNotMatch(html, /<b>/, 'cell text is escaped');
  assert.match(html, /… 2 more rows/);
  assert.match(valueToHTML([{ a: 1 }])!, /array of 1 row × 1 column<br><small>a: number<\/small>/);
  assert.equal(valueToHTML({ a: 1 }), undefined);
  assert.equal(valueToHTML('text'), undefined);
});

test('showResult displays HTML in a tslab notebook: a table as its HTML table, another value as its summary', () => {
  const shown: string[] = [];
  const global = globalThis as { __tslab__?: unknown };
  global.__tslab__ = { require: (id: string) => (id === 'tslab' ? { display: { html: (html: string) => shown.push(html) } } : undefined) };
  try {
    showResult(arrowTable(2));
    showResult(new Map([['a', '<1>']]));
  } finally {
    delete global.__tslab__;
  }
  assert.equal(shown.length, 2);
  assert.equal(shown[0], valueToHTML(arrowTable(2)));
  assert.match(shown[1]!, /^<pre>Map of 1 entry\nMap\(1\) \{ 'a' =&gt; '&lt;1&gt;' \}<\/pre>$/);
});
