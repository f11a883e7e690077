/** How the shell reads a typed line: command names, words, quotes, and what Tab offers. */

/** `list_tasks`, `List-Tasks` and `list-tasks` are one command. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** Splits a line into words; double or single quotes group words with spaces (task names may have them). */
export function splitWords(line: string): string[] {
  const { words, current } = tokenize(line);
  return current ? [...words, current.text] : words;
}

/** The complete words of a line, and the word being typed at its end as typed (with its opening quote). */
export function wordsForCompletion(line: string): { words: string[]; partial: string } {
  const { words, current } = tokenize(line);
  return { words, partial: current?.raw ?? '' };
}

/**
 * The candidates that complete `partial`: those it starts, else (`load` for `Load`) those it
 * starts ignoring case. A name with spaces comes in quotes, so it stays one word; readline
 * replaces the word typed with the completion even when the completion does not start with it
 * (`Mon` becomes `"Monthly Report"`).
 */
export function completeWord(partial: string, candidates: Iterable<string>): string[] {
  const typed = partial.replace(/^["']/, '');
  const unique = [...new Set(candidates)];
  let hits = unique.filter((candidate) => candidate.startsWith(typed));
  if (hits.length === 0) hits = unique.filter((candidate) => candidate.toLowerCase().startsWith(typed.toLowerCase()));
  return withSpaceIfOne(hits.map((candidate) => (/\s/.test(candidate) || partial.startsWith('"') ? `"${candidate}"` : candidate)));
}

/** A single completion gets a space after it, ready for the next word. */
export function withSpaceIfOne(hits: string[]): string[] {
  return hits.length === 1 ? [`${hits[0]} `] : hits;
}

/** Words ended by whitespace, and the word the line ends in, if it does not end in whitespace (or ends inside quotes). */
function tokenize(line: string): { words: string[]; current?: { text: string; raw: string } } {
  const words: string[] = [];
  let current: { text: string; raw: string } | undefined;
  let quote: string | undefined;
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = undefined;
      else current!.text += char;
      current!.raw += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      current ??= { text: '', raw: '' };
      current.raw += char;
    } else if (/\s/.test(char)) {
      if (current) words.push(current.text);
      current = undefined;
    } else {
      current ??= { text: '', raw: '' };
      current.text += char;
      current.raw += char;
    }
  }
  return { words, current };
}
