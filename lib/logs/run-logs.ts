import fs from 'node:fs';
import path from 'node:path';

/** The folder of a pipeline's run logs, inside its folder of task logs (a task's log is a file there, never a folder). */
export function runLogFolder(logFolder: string): string {
  return path.join(logFolder, 'runs');
}

/**
 * The file of a run whose first line is logged at `start`: its time, then the process, so that
 * names sort as runs started and two processes starting together write apart
 * (`2026-12-04T09-30-00.000Z-4242.log`; no colons, which Windows refuses in names).
 */
export function runLogFile(logFolder: string, start: Date): string {
  return path.join(runLogFolder(logFolder), `${start.toISOString().replaceAll(':', '-')}-${process.pid}.log`);
}

/** The run logs of a folder of task logs, oldest first; none when it has none. */
export async function runLogFiles(logFolder: string): Promise<string[]> {
  const folder = runLogFolder(logFolder);
  const names = await fs.promises.readdir(folder).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.log')).sort().map((name) => path.join(folder, name));
}

/** Deletes the oldest run logs until `keep` are left. */
export async function pruneRunLogs(logFolder: string, keep: number): Promise<void> {
  const files = await runLogFiles(logFolder);
  await Promise.all(files.slice(0, Math.max(0, files.length - keep)).map((file) => fs.promises.rm(file, { force: true })));
}
