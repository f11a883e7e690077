import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMs } from '../lib/index.js';

test('durations read in the largest unit that fits after rounding: never 1000 ms, 60.00 s or 60 s in a minute', () => {
  assert.equal(formatMs(0.5), '0.50 ms');
  assert.equal(formatMs(850.4), '850 ms');
  assert.equal(formatMs(999.4), '999 ms');
  assert.equal(formatMs(999.6), '1.00 s');
  assert.equal(formatMs(1520), '1.52 s');
  assert.equal(formatMs(59_994), '59.99 s');
  assert.equal(formatMs(59_996), '1 min 0 s');
  assert.equal(formatMs(125_000), '2 min 5 s');
  assert.equal(formatMs(119_700), '2 min 0 s');
});
