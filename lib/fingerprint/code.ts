import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodeAnalysisError } from '../errors.js';
import type { AnyTask } from '../task.js';
import { hashBytes } from './hash.js';
import type { Reference, SyntaxNode } from './references.js';
import { type SourceModule, loadModule } from './source-module.js';

/** What a task's code is, as far as change detection can see. */
export interface CodeFingerprint {
  /** One hash over everything below but the locations. */
  hash: string;
  /**
   * Every piece of code the task reaches, by a name that survives moving it within its file:
   * `process run` for its processes, `lib/helpers.ts#clean` for a function, class or constant.
   */
  symbols: Record<string, string>;
  /** Packages the code uses, as `name@version`. */
  packages: string[];
  /** What analysis could not see, said plainly. */
  notes: string[];
}

const BUILTINS = new Set(builtinModules);
/** littlepipes' own files count as the littlepipes package, not as the user's code. */
const OWN_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OWN_VERSION = readVersion(path.join(OWN_ROOT, 'package.json'));

/**
 * One look at the source files, for one run, plan or getResult: each file is checked for changes
 * once (parsed modules are kept between looks while their size, mtime and content stay the same),
 * and each task is fingerprinted once.
 */
export class CodeAnalysis {
  readonly #modules = new Map<string, SourceModule>();
  readonly #tasks = new Map<AnyTask, CodeFingerprint>();
  readonly #files = new Map<string, boolean>();
  readonly #packages = new Map<string, string>();
  /** Where each symbol is, `file:line`: shared by every task of the analysis. */
  readonly #locations = new Map<string, string>();

  /** Where a symbol is now, `file:line`, once some task's analysis reached it. */
  locationOf(symbol: string): string | undefined {
    return this.#locations.get(symbol);
  }

  fingerprint(task: AnyTask): CodeFingerprint {
    let fingerprint = this.#tasks.get(task);
    if (!fingerprint) {
      try {
        fingerprint = this.#analyse(task);
      } catch (error) {
        if (error instanceof CodeAnalysisError && !error.task) throw new CodeAnalysisError(error.file, error.detail, task.name);
        throw error;
      }
      this.#tasks.set(task, fingerprint);
    }
    return fingerprint;
  }

  #analyse(task: AnyTask): CodeFingerprint {
    const symbols = new Map<string, string>();
    const locations = this.#locations;
    const packages = new Set<string>();
    // Symbols are named relative to the project (the nearest package.json above the task's module),
    // so they do not change with the working directory.
    const firstSite = task.processes.size > 0 ? task.siteOf(task.processes.keys().next().value!) : undefined;
    const relative = relativeTo(firstSite ? projectRoot(firstSite.file) : process.cwd());
    const notes = new Set<string>();
    const queue: { module: SourceModule; node: SyntaxNode; where: string }[] = [];
    const wholeModules = new Set<SourceModule>();

    const reach = (module: SourceModule, name: string) => {
      const declaration = module.declarations.get(name);
      if (!declaration) return false;
      const id = `${relative(module.file)}#${name}`;
      if (!symbols.has(id)) {
        symbols.set(id, module.hashOf(declaration.node));
        if (!locations.has(id)) locations.set(id, `${relative(module.file)}:${declaration.line}`);
        queue.push({ module, node: declaration.node, where: id });
      }
      return true;
    };

    /** Follows an export of `module` to the code behind it. */
    const reachExport = (module: SourceModule, name: string, seen = new Set<string>()): boolean => {
      const key = `${module.file}#${name}`;
      if (seen.has(key)) return false;
      seen.add(key);
      const target = module.exports.get(name);
      if (target && 'local' in target) return reach(module, target.local) || follow(module, { name: target.local });
      if (target) return reachImport(module, target.source, target.imported, undefined);
      for (const source of module.starExports) {
        const other = this.#resolve(module, source, packages);
        if (other && reachExport(other, name, seen)) return true;
      }
      return false;
    };

    /** Follows `imported` (a name, `default`, or `*` used as `.member`) from `source` as imported by `module`. */
    const reachImport = (module: SourceModule, source: string, imported: string, member: string | undefined): boolean => {
      const target = this.#resolve(module, source, packages);
      if (!target) return true; // A package or a built-in: counted by #resolve, or not at all.
      if (imported !== '*') return reachExport(target, imported) || note(`${relative(target.file)} has no export "${imported}" that analysis can follow`);
      if (member !== undefined) return reachExport(target, member) || note(`${relative(target.file)} has no export "${member}" that analysis can follow`);
      // The namespace is used as a whole (passed around, indexed): everything it exports counts.
      for (const name of target.exports.keys()) reachExport(target, name);
      for (const star of target.starExports) this.#resolve(target, star, packages);
      return true;
    };

    const note = (text: string) => {
      notes.add(text);
      return true;
    };

    /** Resolves a free reference of code in `module`: a declaration of the module, an import, or a global. */
    const follow = (module: SourceModule, reference: Reference): boolean => {
      if (reach(module, reference.name)) return true;
      const binding = module.imports.get(reference.name);
      if (!binding) return false; // A global (Math, console...) or a name bound by enclosing code.
      return reachImport(module, binding.source, binding.imported, binding.imported === '*' ? reference.member : undefined);
    };

    for (const [name, fn] of task.processes) {
      const id = `process ${name}`;
      const site = task.siteOf(name);
      const module = site && this.#module(site.file);
      const call = module && site ? module.processCallAt(site.line, site.column) : undefined;
      if (!module || !call) {
        // A REPL line, eval'd code, a bundle without the source: compare the function's own text.
        symbols.set(id, hashBytes(fn.toString()));
        notes.add(`the source of process "${name}" was not found, so only its own text is compared; helpers it calls are not followed`);
        continue;
      }
      const args = call.arguments as SyntaxNode[];
      const node = args[args.length - 1]!;
      symbols.set(id, module.hashOf(node));
      locations.set(id, `${relative(module.file)}:${module.lineOf(node.start)}`);
      queue.push({ module, node, where: id });
      // A process made inside a function (a factory, a loop) can use that function's locals: its code counts too.
      const enclosing = module.enclosingFunctionOf(call);
      if (enclosing) {
        const enclosingId = `${id} (enclosing code)`;
        symbols.set(enclosingId, module.hashOf(enclosing));
        locations.set(enclosingId, `${relative(module.file)}:${module.lineOf(enclosing.start)}`);
        queue.push({ module, node: enclosing, where: enclosingId });
      }
    }

    while (queue.length > 0) {
      const { module, node, where } = queue.pop()!;
      const { references, dynamic } = module.referencesOf(node);
      for (const reference of references) follow(module, reference);
      if (dynamic.length > 0 && !wholeModules.has(module)) {
        // What eval or a computed import reaches cannot be seen: every line of the module counts.
        wholeModules.add(module);
        symbols.set(`${relative(module.file)}#*`, module.hashOf(module.program));
        notes.add(`${where} uses ${dynamic.join(' and ')}, which analysis cannot follow, so any change in ${relative(module.file)} re-runs it`);
      }
    }

    const sortedPackages = [...packages].sort();
    const sortedNotes = [...notes].sort();
    const entries = [...symbols].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      hash: hashBytes(JSON.stringify([entries, sortedPackages, sortedNotes])),
      symbols: Object.fromEntries(entries),
      packages: sortedPackages,
      notes: sortedNotes,
    };
  }

  /** The module in a file, checked for changes once per analysis. */
  #module(file: string): SourceModule | undefined {
    let module = this.#modules.get(file);
    if (!module) {
      if (!this.#exists(file)) return undefined;
      module = loadModule(file);
      this.#modules.set(file, module);
    }
    return module;
  }

  /**
   * The module an import specifier names, or undefined when it is a package (then added to
   * `packages` as name@version) or a Node built-in (which does not count).
   */
  #resolve(from: SourceModule, specifier: string, packages: Set<string>): SourceModule | undefined {
    if (specifier.startsWith('node:') || BUILTINS.has(specifier)) return undefined;
    if (!specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('file:')) {
      packages.add(this.#packageVersion(from.file, specifier));
      return undefined;
    }
    const base = specifier.startsWith('file:') ? fileURLToPath(specifier) : path.resolve(path.dirname(from.file), specifier);
    const file = this.#sourceFile(base);
    if (!file) throw new CodeAnalysisError(from.file, `it imports "${specifier}", which is not there`);
    if (file.startsWith(`${OWN_ROOT}${path.sep}lib${path.sep}`) || file.startsWith(`${OWN_ROOT}${path.sep}dist${path.sep}`)) {
      packages.add(`littlepipes@${OWN_VERSION}`);
      return undefined;
    }
    return this.#module(file);
  }

  /** The file an import path means: as written, or the TypeScript source of a `.js` path, or with an extension or index added. */
  #sourceFile(base: string): string | undefined {
    const typescript = base.replace(/\.(m|c)?js$/, (_, kind: string | undefined) => `.${kind ?? ''}ts`);
    const candidates = [base, typescript, `${base}.ts`, `${base}.tsx`, `${base}.js`, `${base}.mjs`, path.join(base, 'index.ts'), path.join(base, 'index.js')];
    return candidates.find((candidate) => this.#exists(candidate) && fs.statSync(candidate).isFile());
  }

  #exists(file: string): boolean {
    let exists = this.#files.get(file);
    if (exists === undefined) {
      exists = fs.existsSync(file);
      this.#files.set(file, exists);
    }
    return exists;
  }

  /** `name@version` of the package a bare specifier names, found the way Node looks for it: up the node_modules folders. */
  #packageVersion(from: string, specifier: string): string {
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
    const key = `${path.dirname(from)}\u0000${name}`;
    let found = this.#packages.get(key);
    if (found === undefined) {
      found = `${name}@unknown`;
      for (let folder = path.dirname(from); ; folder = path.dirname(folder)) {
        const manifest = path.join(folder, 'node_modules', name, 'package.json');
        if (this.#exists(manifest)) {
          found = `${name}@${readVersion(manifest)}`;
          break;
        }
        if (path.dirname(folder) === folder) break;
      }
      this.#packages.set(key, found);
    }
    return found;
  }
}

const roots = new Map<string, string>();

/** The folder of the nearest package.json above a file (the file's own folder when there is none). */
function projectRoot(file: string): string {
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
function relativeTo(root: string): (file: string) => string {
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

function readVersion(manifest: string): string {
  try {
    return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
