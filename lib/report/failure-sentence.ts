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
