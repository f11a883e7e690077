import fs from 'node:fs';
import path from 'node:path';
import { OWN_ROOT, OWN_VERSION } from '../own-package.js';

/**
 * Where code is, for its fingerprint: the project a file belongs to (symbols are named relative
 * to it), and littlepipes' own files, which count as the littlepipes package.
 */

/** littlepipes as a package the code uses, `littlepipes@<version>`; its own files count as that, not as the user's code. */
export const OWN_PACKAGE = `littlepipes@${OWN_VERSION}`;

/** Whether a folder is littlepipes' own (a project that links it counts it by its version). */
export function isOwnRoot(folder: string): boolean {
  return folder === OWN_ROOT;
}

/** Whether a file is one of littlepipes' own. */
export function isOwnFile(file: string): boolean {
  return file.startsWith(`${OWN_ROOT}${path.sep}lib${path.sep}`) || file.startsWith(`${OWN_ROOT}${path.sep}dist${path.sep}`);
}

const roots = new Map<string, string>();

/** The folder of the nearest package.json above a file (the file's own folder when there is none). */
export function projectRoot(file: string): string {
  const start = path.dirname(file);
  let root = roots.get(start);
  if (root === undefined) {
    root = start;
    for (let folder = start; ; folder = path.dirname(folder)) {
      if (fs.existsSync(path.join(folder, 'package.json'))) {
        root = folder;
        break;
      }
      if (path.dirname(folder) === folder) break;
    }
    roots.set(start, root);
  }
  return root;
}

const shownPaths = new Map<string, Map<string, string>>();

/** Shows files relative to `root`, as symbols and locations name them (remembered per root). */
export function relativeTo(root: string): (file: string) => string {
  let shown = shownPaths.get(root);
  if (!shown) {
    shown = new Map();
    shownPaths.set(root, shown);
  }
  const paths = shown;
  return (file) => {
    let relative = paths.get(file);
    if (relative === undefined) {
      relative = path.relative(root, file).split(path.sep).join('/') || path.basename(file);
      paths.set(file, relative);
    }
    return relative;
  };
}
