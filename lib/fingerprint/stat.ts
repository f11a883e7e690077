import type fs from 'node:fs';

/**
 * What a stat shortcut compares to take a file as unchanged without reading it. As git's index
 * does, it is the file's size, mtime, ctime and inode: a file edited with its mtime put back
 * (cp -p, rsync -a, tar x, touch -d) has a new ctime, since every write and every change of the
 * mtime sets it to the current time, and a file replaced by another (a rename over it) has
 * another inode.
 */
export interface StatKey {
  size: number;
  mtimeMs: number;
  /** Absent in records of older versions: then the file is read again. */
  ctimeMs?: number;
  ino?: number;
}

/** The stat key of a file's stat. */
export function statKey(stat: fs.Stats): Required<StatKey> {
  return { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino };
}

/** Whether a file's stat (an fs.Stats, or a key taken of one) is the one recorded: then its content is taken as unchanged. */
export function sameStat(known: StatKey, stat: StatKey): boolean {
  return known.size === stat.size && known.mtimeMs === stat.mtimeMs && known.ctimeMs === stat.ctimeMs && known.ino === stat.ino;
}
