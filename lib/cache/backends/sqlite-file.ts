import fs from 'node:fs';

/** The first 16 bytes of every SQLite database file. */
const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Looks at the cache file before SQLite opens it, and moves it aside when it cannot be a whole
 * database: not an SQLite file at all (overwritten, or garbage), or shorter than its own header
 * says (truncated). Its `-wal` and `-shm` files go with it. The caller warns and starts afresh.
 * A missing or empty file is fine: SQLite creates the database.
 * @returns why the file was moved and where to, or undefined when it looks whole
 */
export function setAsideIfDamaged(file: string, now = new Date()): { problem: string; movedTo: string } | undefined {
  let descriptor: number;
  try {
    descriptor = fs.openSync(file, 'r');
  } catch {
    return undefined; // Missing: SQLite creates it. Unreadable: SQLite's own error says so.
  }
  let problem: string | undefined;
  try {
    const { size } = fs.fstatSync(descriptor);
    if (size === 0) return undefined;
    const header = Buffer.alloc(100);
    const read = fs.readSync(descriptor, header, 0, 100, 0);
    if (read < 100 || !header.subarray(0, 16).equals(MAGIC)) {
      problem = 'is not an SQLite database (overwritten or damaged)';
    } else {
      const rawPageSize = header.readUInt16BE(16);
      const pageSize = rawPageSize === 1 ? 65_536 : rawPageSize;
      const pages = header.readUInt32BE(28);
      // The page count in the header is only valid when written by a version that keeps it up to date.
      const countValid = header.readUInt32BE(92) === header.readUInt32BE(24);
      if (countValid && pages > 0 && size < pageSize * pages) problem = `is truncated (${size} bytes of ${pageSize * pages})`;
    }
  } finally {
    fs.closeSync(descriptor);
  }
  if (!problem) return undefined;
  const movedTo = `${file}.damaged-${now.toISOString().replace(/[:.]/g, '-')}`;
  fs.renameSync(file, movedTo);
  for (const suffix of ['-wal', '-shm']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, movedTo + suffix);
  }
  return { problem, movedTo };
}
