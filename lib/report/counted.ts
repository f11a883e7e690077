/** `1,000`: a number grouped as people read it. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * A count and its noun, singular for exactly one: `1 row`, `1,000 rows`, `1 entry`, `2 entries`.
 *
 * @example
 * counted(items.length, 'item'); // '1 item'
 * counted(map.size, 'entry', 'entries'); // '2 entries'
 */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${count(n)} ${n === 1 ? singular : plural}`;
}
