// Words and numbers as people read them, for every layer: counts, durations, failures.

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

/** `850 ms`, `1.52 s`, `2 min 5 s`. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  // Each unit is chosen after rounding, so 999.6 ms reads `1.00 s`, not `1000 ms`.
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const centiseconds = Math.round(ms / 10);
  if (centiseconds < 6000) return `${(centiseconds / 100).toFixed(2)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/**
 * Why a task failed, as a sentence that names the task once: `Totals: no region column.` Many
 * errors name their task already (`Slow timed out after 20 ms`, `Totals: result is a function`);
 * those are not prefixed again. A one-line message gets the full stop it lacks, so that what
 * follows it reads as the next sentence.
 */
export function failureSentence(task: string, message: string): string {
  const text = message.trim();
  const named = text.startsWith(task) && /^(?:$|[^\p{L}\p{N}_])/u.test(text.slice(task.length)) ? text : `${task}: ${text}`;
  return named.includes('\n') || /[.!?:]$/.test(named) ? named : `${named}.`;
}
