import fs from 'node:fs';
import path from 'node:path';
import { runLogFiles } from './run-logs.js';

/** A line about the task and where it sorts. */
interface Placed {
  line: string;
  time: number;
  /** Within one millisecond: 0 before the task's own lines, 1 its own, 2 after them. */
  rank: number;
}

/**
 * Everything logged about a task, as written (pino's JSON lines), oldest first: its own lines
 * (`<task>.log.1`, `<task>.log`) and the runner's lines about it in the run logs kept (see
 * TaskLogs). Empty when there are none.
 *
 * Lines are ordered by their time, which pino gives in milliseconds, and a task's own lines and
 * the runner's often share one. Within a run, a task's own lines fall between the runner's first
 * line about it there ('started') and its later ones ('done in N ms'), so in a tie the first goes
 * before them and the others after.
 */
export async function taskLogLines(logFolder: string, task: string): Promise<string[]> {
  const file = path.join(logFolder, `${task}.log`);
  const placed: Placed[] = [];
  for (const own of [`${file}.1`, file]) {
    let time = 0;
    for (const line of await linesOf(own)) {
      // A line that does not parse (cut short by a crash) stays where it was written.
      time = timeOf(line) ?? time;
      placed.push({ line, time, rank: 1 });
    }
  }
  // A line about the task names it as a top-level field, quoted as JSON quotes it (task names need no escaping).
  const marker = `"task":${JSON.stringify(task)}`;
  for (const run of await runLogFiles(logFolder)) {
    let first = true;
    for (const line of await linesOf(run)) {
      if (!line.includes(marker)) continue;
      const parsed = parse(line);
      if (parsed?.task !== task || typeof parsed.time !== 'number') continue;
      placed.push({ line, time: parsed.time, rank: first ? 0 : 2 });
      first = false;
    }
  }
  // Stable: lines of one file with the same time and rank keep their order.
  placed.sort((a, b) => a.time - b.time || a.rank - b.rank);
  return placed.map((entry) => entry.line);
}

async function linesOf(file: string): Promise<string[]> {
  const text = await fs.promises.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text.split('\n').filter(Boolean);
}

function parse(line: string): { task?: unknown; time?: unknown } | undefined {
  try {
    return JSON.parse(line) as { task?: unknown; time?: unknown };
  } catch {
    return undefined;
  }
}

function timeOf(line: string): number | undefined {
  const time = parse(line)?.time;
  return typeof time === 'number' ? time : undefined;
}
