import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodeAnalysisError } from '../errors.js';
import type { AnyTask } from '../task.js';
import { siteId } from './call-site.js';
import { hashBytes, joinParts } from './hash.js';
import { loadTarget, loadableFiles } from './module-loads.js';
import { OWN_PACKAGE, isOwnFile, isOwnRoot, projectRoot, relativeTo } from './project-paths.js';
import { readVersion } from '../own-package.js';
import type { Reference, SyntaxNode } from './references.js';
import { type Declaration, type SourceModule, loadModule } from './source-module.js';

/** What a task's code is, as far as change detection can see. */
export interface CodeFingerprint {
  /** One hash over everything below but the locations. */
  hash: string;
  /**
   * Every piece of code the task reaches, by a name that survives moving it within its file:
   * `process run` for its processes, `lib/helpers.ts#clean` for a function, class or constant.
   */
  symbols: Record<string, string>;
  /**
   * Packages the code uses, as `name@version`. Each is also a symbol, `package <name>` with its
   * version as the value, so that a new version is said as such.
   */
  packages: string[];
  /** What analysis could not see, said plainly. */
  notes: string[];
  /**
   * What analysis could not see and the user must act on: a module loaded by a path that no
   * literal part bounds (`import(name)`), whose edits cannot re-run the task.
   */
  warnings: string[];
  /**
   * Processes passed as a value built at run time (not an inline function, nor a function declared
   * in their module): the source at their call site does not tell what they run, so the function's
   * own text counts too, task by task.
   */
  runtimeText: string[];
}

/** What one piece of code reaches directly (see CodeAnalysis.#reached). */
interface Reached {
  declarations: { module: SourceModule; name: string; node: SyntaxNode; line: number }[];
  packages: Set<string>;
  /** The files each module load bounded by its path can load, by its pattern (`import(./plug-*.mjs)`). */
  loads: { pattern: string; files: string[] }[];
  /** Module loads that nothing bounds, as written (`import(name)`), with their line. */
  unbounded: { text: string; line: number }[];
  notes: string[];
  dynamic: string[];
}

const BUILTINS = new Set(builtinModules);

/** Function literals: what runs is written at the call site. */
const FUNCTION_LITERALS = new Set(['FunctionExpression', 'ArrowFunctionExpression']);

/**
 * Whether the code of a process argument is all in the source: an inline function, or the name
 * of a function declared in the module (`function run(t) {...}` or `const run = (t) => ...`).
 */
function staticallyKnown(module: SourceModule, node: SyntaxNode): boolean {
  if (FUNCTION_LITERALS.has(node.type)) return true;
  if (node.type !== 'Identifier') return false;
  const declared = module.declarations.get(node.name as string)?.node;
  if (!declared) return false;
  return declared.type === 'FunctionDeclaration' || (declared.type === 'VariableDeclarator' && FUNCTION_LITERALS.has((declared.init as SyntaxNode | null)?.type ?? ''));
}

/** A fingerprint with the runtime text of the task's processes that need it (see `runtimeText`). */
function withRuntimeText(fingerprint: CodeFingerprint, task: AnyTask): CodeFingerprint {
  if (fingerprint.runtimeText.length === 0) return fingerprint;
  const symbols = { ...fingerprint.symbols };
  for (const name of fingerprint.runtimeText) symbols[`process ${name} (runtime text)`] = hashBytes(String(task.processes.get(name)));
  const notes = [...fingerprint.notes, `process${fingerprint.runtimeText.length > 1 ? 'es' : ''} ${fingerprint.runtimeText.map((name) => `"${name}"`).join(', ')} ${fingerprint.runtimeText.length > 1 ? 'are values' : 'is a value'} built at run time, so ${fingerprint.runtimeText.length > 1 ? 'their' : 'its'} own text is compared too`].sort();
  const entries = Object.entries(symbols).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { ...fingerprint, symbols, notes, hash: hashBytes(JSON.stringify([entries, fingerprint.packages, notes])) };
}

/** Each process's name and call site, as one key; undefined when a site is unknown (then the text is compared). */
function siteKey(task: AnyTask): string | undefined {
  let key = '';
  for (const name of task.processes.keys()) {
    const site = task.siteOf(name);
    if (!site) return undefined;
    key += `${name}\u0000${siteId(site)}\u0000`;
  }
  return key;
}

/**
 * One look at the source files, for one run, plan or getResult: each file is checked for changes
 * once (parsed modules are kept between looks while their stat and content stay the same),
 * and each task is fingerprinted once.
 */
export class CodeAnalysis {
  readonly #modules = new Map<string, SourceModule>();
  readonly #tasks = new Map<AnyTask, CodeFingerprint>();
  readonly #files = new Map<string, boolean>();
  readonly #packages = new Map<string, string>();
  readonly #reachedByNode = new Map<SyntaxNode, Reached>();
  readonly #bySites = new Map<string, CodeFingerprint>();
  readonly #listings = new Map<string, string[]>();
  readonly #linked = new Map<string, string>();
  /** Where each symbol is, `file:line`: shared by every task of the analysis. */
  readonly #locations = new Map<string, string>();

  /** Where a symbol is now, `file:line`, once some task's analysis reached it. */
  locationOf(symbol: string): string | undefined {
    return this.#locations.get(symbol);
  }

  fingerprint(task: AnyTask): CodeFingerprint {
    let fingerprint = this.#tasks.get(task);
    if (!fingerprint) {
      // Tasks made at the same call sites (in a loop, by a factory) run the same code.
      const sites = siteKey(task);
      fingerprint = sites === undefined ? undefined : this.#bySites.get(sites);
      if (!fingerprint) {
        try {
          fingerprint = this.#analyse(task);
        } catch (error) {
          if (error instanceof CodeAnalysisError && !error.task) throw new CodeAnalysisError(error.file, error.detail, task.name);
          throw error;
        }
        if (sites !== undefined) this.#bySites.set(sites, fingerprint);
      }
      fingerprint = withRuntimeText(fingerprint, task);
      this.#tasks.set(task, fingerprint);
    }
    return fingerprint;
  }

  #analyse(task: AnyTask): CodeFingerprint {
    const symbols = new Map<string, string>();
    const packages = new Set<string>();
    const notes = new Set<string>();
    const warnings = new Set<string>();
    const warned = new Set<string>();
    const runtimeText: string[] = [];
    // Symbols are named relative to the project (the nearest package.json above the task's module),
    // so they do not change with the working directory.
    const firstSite = task.processes.size > 0 ? task.siteOf(task.processes.keys().next().value!) : undefined;
    const relative = relativeTo(firstSite ? projectRoot(firstSite.file) : process.cwd());
    const queue: { module: SourceModule; node: SyntaxNode; where: string }[] = [];
    const add = (id: string, module: SourceModule, node: SyntaxNode, line: number) => {
      if (symbols.has(id)) return;
      symbols.set(id, module.hashOf(node));
      if (!this.#locations.has(id)) this.#locations.set(id, `${relative(module.file)}:${line}`);
      queue.push({ module, node, where: id });
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
      add(id, module, node, module.lineOf(node.start));
      if (!staticallyKnown(module, node)) runtimeText.push(name);
      // A process made inside a function (a factory, a loop) can use that function's locals: its code counts too.
      const enclosing = module.enclosingFunctionOf(call);
      if (enclosing) add(`${id} (enclosing code)`, module, enclosing, module.lineOf(enclosing.start));
    }

    while (queue.length > 0) {
      const { module, node, where } = queue.pop()!;
      const reached = this.#reached(module, node);
      for (const declaration of reached.declarations) add(`${relative(declaration.module.file)}#${declaration.name}`, declaration.module, declaration.node, declaration.line);
      for (const name of reached.packages) packages.add(name);
      for (const text of reached.notes) notes.add(text);
      for (const { pattern, files } of reached.loads) {
        // Which files it can load counts (a new plugin re-runs the task), and each whole file.
        symbols.set(`${relative(module.file)}#${pattern}`, hashBytes(joinParts(files.map(relative))));
        for (const file of files) {
          if (isOwnFile(file)) {
            packages.add(OWN_PACKAGE);
            continue;
          }
          const loaded = file.endsWith('.json') ? undefined : this.#parsedOrNothing(file);
          if (loaded) add(`${relative(file)}#*`, loaded, loaded.program, 1);
          // JSON, or a file the pattern matches that does not parse (the code may never load it): its bytes count.
          else symbols.set(`file ${relative(file)}`, hashBytes(fs.readFileSync(file)));
        }
      }
      for (const { text, line } of reached.unbounded) {
        // Once per load, though its module's whole code (`#*`) reaches it again.
        const place = `${relative(module.file)}:${line}`;
        if (warned.has(`${place} ${text}`)) continue;
        warned.add(`${place} ${text}`);
        warnings.add(`${where} loads ${text} (${place}), whose path no literal part bounds, so an edit to the module it loads does not re-run the task: declare the files it can load in the task's inputs, or the module in its sources`);
      }
      const dynamic = [...reached.dynamic, ...(reached.unbounded.length > 0 ? ['a module load with a computed path'] : [])];
      if (dynamic.length > 0 && node !== module.program) {
        // What eval or an unbounded load reaches cannot be seen: every line of the module counts.
        add(`${relative(module.file)}#*`, module, module.program, 1);
        notes.add(`${where} uses ${dynamic.join(' and ')}, which analysis cannot follow, so any change in ${relative(module.file)} re-runs it`);
      }
    }

    const sortedPackages = [...packages].sort();
    for (const [name, versions] of versionsByPackage(sortedPackages)) symbols.set(`${PACKAGE_SYMBOL}${name}`, versions.join(', '));
    const sortedNotes = [...notes].sort();
    const entries = [...symbols].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      hash: hashBytes(JSON.stringify([entries, sortedPackages, sortedNotes])),
      symbols: Object.fromEntries(entries),
      packages: sortedPackages,
      notes: sortedNotes,
      warnings: [...warnings].sort(),
      runtimeText,
    };
  }

  /**
   * What a piece of code reaches directly: the declarations its free references resolve to
   * (through imports, re-exports and `export *`), the packages it uses, and what analysis could
   * not see. Resolved once per analysis and shared by every task that reaches the code.
   */
  #reached(module: SourceModule, node: SyntaxNode): Reached {
    let reached = this.#reachedByNode.get(node);
    if (reached) return reached;
    const { references, loads, dynamic } = module.referencesOf(node);
    const found: Reached = { declarations: [], packages: new Set(), loads: [], unbounded: [], notes: [], dynamic };
    const seenDeclarations = new Set<Declaration>();
    const reach = (owner: SourceModule, name: string): boolean => {
      const declaration = owner.declarations.get(name);
      if (!declaration) return false;
      if (!seenDeclarations.has(declaration)) {
        seenDeclarations.add(declaration);
        found.declarations.push({ module: owner, name, node: declaration.node, line: declaration.line });
      }
      return true;
    };
    const note = (text: string) => {
      found.notes.push(text);
      return true;
    };
    /** Follows an export of `owner` to the code behind it. */
    const reachExport = (owner: SourceModule, name: string, seen = new Set<string>()): boolean => {
      const key = `${owner.file}#${name}`;
      if (seen.has(key)) return false;
      seen.add(key);
      const target = owner.exports.get(name);
      if (target && 'local' in target) return reach(owner, target.local) || follow(owner, { name: target.local });
      if (target) return reachImport(owner, target.source, target.imported, undefined);
      for (const source of owner.starExports) {
        const other = this.#resolve(owner, source, found.packages);
        if (other && reachExport(other, name, seen)) return true;
      }
      return false;
    };
    /** Follows `imported` (a name, `default`, or `*` used as `.member`) from `source` as imported by `owner`. */
    const reachImport = (owner: SourceModule, source: string, imported: string, member: string | undefined): boolean => {
      const target = this.#resolve(owner, source, found.packages);
      if (!target) return true; // A package or a built-in: counted by #resolve, or not at all.
      if (imported !== '*') return reachExport(target, imported) || note(`${target.file} has no export "${imported}" that analysis can follow`);
      if (member !== undefined) return reachExport(target, member) || note(`${target.file} has no export "${member}" that analysis can follow`);
      // The namespace is used as a whole (passed around, indexed): everything it exports counts.
      reachEverything(target);
      return true;
    };
    /** Every export of a module: its own, those it re-exports, and those of its `export *` modules. */
    const reachEverything = (owner: SourceModule, seen = new Set<SourceModule>()): void => {
      if (seen.has(owner)) return;
      seen.add(owner);
      for (const name of owner.exports.keys()) reachExport(owner, name);
      for (const star of owner.starExports) {
        const other = this.#resolve(owner, star, found.packages);
        if (other) reachEverything(other, seen);
      }
    };
    /** Resolves a free reference: a declaration of the module, an import, or a global (which does not count). */
    const follow = (owner: SourceModule, reference: Reference): boolean => {
      if (reach(owner, reference.name)) return true;
      const binding = owner.imports.get(reference.name);
      if (!binding) return false;
      return reachImport(owner, binding.source, binding.imported, binding.imported === '*' ? reference.member : undefined);
    };
    for (const reference of references) follow(module, reference);
    // A whole module counts (one a load reaches, or one with eval): so do the exports it takes from others.
    if (node === module.program) reachEverything(module);
    for (const load of loads) {
      const target = loadTarget(module.file, load);
      if (!target) found.unbounded.push({ text: `${load.call}(${module.text.slice(load.start, load.end)})`, line: module.lineOf(load.start) });
      else if (target.kind === 'package') found.packages.add(this.#packageVersion(module.file, target.name));
      else if (target.kind === 'files') {
        const files = target.exact !== undefined
          ? [this.#sourceFile(target.exact)].filter((file): file is string => file !== undefined)
          : this.#loadableFiles(target.folder, target.start).filter((file) => target.matches(path.relative(target.folder, file).split(path.sep).join('/')));
        found.loads.push({ pattern: `${load.call}(${target.pattern})`, files });
      }
    }
    reached = found;
    this.#reachedByNode.set(node, reached);
    return reached;
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
    if (isOwnFile(file)) {
      packages.add(OWN_PACKAGE);
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

  /** The module in a file, or undefined when it does not parse. */
  #parsedOrNothing(file: string): SourceModule | undefined {
    try {
      return this.#module(file);
    } catch (error) {
      if (error instanceof CodeAnalysisError) return undefined;
      throw error;
    }
  }

  /** The files a load can name below a folder (see loadableFiles), listed once per analysis. */
  #loadableFiles(folder: string, start: string): string[] {
    const key = `${folder}\u0000${start}`;
    let files = this.#listings.get(key);
    if (!files) {
      files = loadableFiles(folder, start);
      this.#listings.set(key, files);
    }
    return files;
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
  /**
   * For a package linked into node_modules from a folder of the user's (a workspace, `npm link`),
   * whose files change without its version, ` (linked, <hash>)` over its files' content (as
   * loadableFiles lists them, with its package.json); nothing for an installed package.
   */
  #linkedContent(folder: string): string {
    const real = fs.realpathSync(folder);
    if (real.split(path.sep).includes('node_modules') || isOwnRoot(real)) return '';
    let content = this.#linked.get(real);
    if (content === undefined) {
      const files = [path.join(real, 'package.json'), ...loadableFiles(real, '')];
      content = ` (linked, ${hashBytes(joinParts(files.flatMap((file) => [path.relative(real, file), hashBytes(fs.readFileSync(file))]))).slice(0, 8)})`;
      this.#linked.set(real, content);
    }
    return content;
  }

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
          found = `${name}@${readVersion(manifest)}${this.#linkedContent(path.dirname(manifest))}`;
          break;
        }
        if (path.dirname(folder) === folder) break;
      }
      this.#packages.set(key, found);
    }
    return found;
  }
}

/** How the symbol of a package the code uses starts: `package leven`, its value the version. */
export const PACKAGE_SYMBOL = 'package ';

/** The versions of each package among `name@version`s (two, when two copies are reached). */
function versionsByPackage(packages: readonly string[]): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const pkg of packages) {
    const at = pkg.lastIndexOf('@');
    const name = pkg.slice(0, at);
    byName.set(name, [...(byName.get(name) ?? []), pkg.slice(at + 1)]);
  }
  return byName;
}
