import { type Backend, type StoreChoice } from './backend.js';
import { KeyvBackend } from './keyv.js';
import { SqliteBackend } from './sqlite.js';
import { UrlBackend } from './url.js';

/**
 * Opens the backend a choice names. At once: the SQLite file is ready to be used synchronously,
 * and a URL store connects behind `ready` (its adapter package imported only then). `check`
 * runs before anything is written (see ResultStore's format check).
 */
export function openBackend(choice: StoreChoice, namespace: string, pipeline: string, check: (backend: Backend) => Promise<void>): Backend {
  switch (choice.kind) {
    case 'sqlite':
      return new SqliteBackend(choice.file, choice.cacheDir, namespace, pipeline, check);
    case 'url':
      return new UrlBackend(choice.url, choice.shown, namespace, check);
    case 'keyv':
      return new KeyvBackend(choice.store, namespace, check);
  }
}
