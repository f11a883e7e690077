import fs from 'node:fs';
import type { parseSync as ParseSync } from 'oxc-parser';
import { parserModule } from '../deferred-packages.js';
import { CodeAnalysisError } from '../errors.js';
import { hashCode } from './code-hash.js';
import { hashBytes } from './hash.js';
import { type StatKey, sameStat, statKey } from './stat.js';
import { type References, type SyntaxNode, boundNames, isNode, referencesOf, unwrapExport } from './references.js';

/** A top-level declaration of a module: a function, class, variable or enum. */
export interface Declaration {
  name: string;
  kind: 'function' | 'class' | 'variable' | 'enum' | 'default';
  /** 1-based line of the declaration in its file. */
  line: number;
  node: SyntaxNode;
}

/** What an imported name is bound to: an export of another module, or the whole module (`*`). */
export interface ImportBinding {
  source: string;
  imported: string;
}

/** What an exported name stands for: a local name, or an export of another module. */
export type ExportTarget = { local: string } | { source: string; imported: string };

/**
 * One source file as analysis sees it: its syntax tree and its top-level names. Built from the
 * file's text by oxc-parser, and kept while the file's stat (see StatKey) and content hash stay the same.
 */
export class SourceModule {
  readonly declarations = new Map<string, Declaration>();
  readonly imports = new Map<string, ImportBinding>();
  readonly exports = new Map<string, ExportTarget>();
  /** Sources of `export * from '...'`. */
  readonly starExports: string[] = [];
  readonly program: SyntaxNode;
  readonly #lineStarts: number[] = [0];
  readonly #hashes = new Map<SyntaxNode, string>();
  readonly #references = new Map<SyntaxNode, References>();
  #callsByLine: Map<number, SyntaxNode[]> | undefined;
  readonly #enclosing = new Map<SyntaxNode, SyntaxNode>();

  constructor(readonly file: string, readonly text: string) {
    for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) this.#lineStarts.push(index + 1);
    if (!parseSync) throw new Error('littlepipes: a module parsed before prepareParsing() resolved'); // refreshCodeAnalysis() awaits it.
    // Without parentheses in the tree: `(a * 2) + 1` is `a * 2 + 1`. The tree keeps what they change (`(a?.b).c`).
    const { program, errors } = parseSync(file, text, { sourceType: 'module', preserveParens: false });
    if (errors.length > 0) {
      const first = errors[0]!;
      const offset = first.labels?.[0]?.start;
      throw new CodeAnalysisError(file, `${first.message}${offset === undefined ? '' : ` (line ${this.lineOf(offset)})`}`);
    }
    this.program = program as unknown as SyntaxNode;
    for (const statement of this.program.body as SyntaxNode[]) this.#index(statement);
  }

  /** The 1-based line of a character offset. */
  lineOf(offset: number): number {
    let low = 0;
    let high = this.#lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#lineStarts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  }

  /** A hash of a node's code that ignores what cannot change behaviour (see hashCode), computed once. */
  hashOf(node: SyntaxNode): string {
    let hash = this.#hashes.get(node);
    if (hash === undefined) {
      hash = hashCode(node);
      this.#hashes.set(node, hash);
    }
    return hash;
  }

  /** The free references of a node, computed once. */
  referencesOf(node: SyntaxNode): References {
    let references = this.#references.get(node);
    if (!references) {
      references = referencesOf(node);
      this.#references.set(node, references);
    }
    return references;
  }

  /** The `.process(...)` call whose `process` starts at this 1-based line and column (the position stack traces give). */
  processCallAt(line: number, column: number): SyntaxNode | undefined {
    const calls = this.#processCalls().get(line);
    if (!calls) return undefined;
    // Several on one line (a one-line chain): the one whose `process` is nearest the column.
    let best = calls[0];
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const call of calls) {
      const property = (call.callee as SyntaxNode).property as SyntaxNode;
      const distance = Math.abs(property.start - this.#lineStarts[line - 1]! + 1 - column);
      if (distance < bestDistance) {
        best = call;
        bestDistance = distance;
      }
    }
    return best;
  }

  /**
   * The outermost function a `.process(...)` call sits in, if any: a process made inside a
   * function (a factory, a loop) can use that function's locals, so its code counts too.
   */
  enclosingFunctionOf(call: SyntaxNode): SyntaxNode | undefined {
    this.#processCalls();
    return this.#enclosing.get(call);
  }

  /** Every `x.process(...)` call of the module by the line of its `process`, and what encloses it, found in one walk. */
  #processCalls(): Map<number, SyntaxNode[]> {
    if (this.#callsByLine) return this.#callsByLine;
    const byLine = new Map<number, SyntaxNode[]>();
    const search = (value: unknown, outermost: SyntaxNode | undefined): void => {
      if (Array.isArray(value)) {
        for (const item of value) search(item, outermost);
        return;
      }
      if (!isNode(value)) return;
      if (value.type === 'CallExpression') {
        const callee = value.callee as SyntaxNode;
        const property = callee.type === 'MemberExpression' ? (callee.property as SyntaxNode) : undefined;
        if (property?.type === 'Identifier' && property.name === 'process') {
          const line = this.lineOf(property.start);
          byLine.set(line, [...(byLine.get(line) ?? []), value]);
          if (outermost) this.#enclosing.set(value, outermost);
        }
      }
      const inside = outermost ?? (FUNCTION_TYPES.has(value.type) ? value : undefined);
      for (const key in value) if (key !== 'type' && key !== 'start' && key !== 'end') search(value[key], inside);
    };
    search(this.program, undefined);
    this.#callsByLine = byLine;
    return byLine;
  }

  #index(statement: SyntaxNode): void {
    switch (statement.type) {
      case 'ImportDeclaration': {
        if (statement.importKind === 'type') return;
        const source = (statement.source as SyntaxNode).value as string;
        for (const specifier of statement.specifiers as SyntaxNode[]) {
          if (specifier.importKind === 'type') continue;
          const local = (specifier.local as SyntaxNode).name as string;
          const imported =
            specifier.type === 'ImportNamespaceSpecifier' ? '*' : specifier.type === 'ImportDefaultSpecifier' ? 'default' : exportName(specifier.imported as SyntaxNode);
          this.imports.set(local, { source, imported });
        }
        return;
      }
      case 'ExportAllDeclaration': {
        if (statement.exportKind === 'type') return;
        const source = (statement.source as SyntaxNode).value as string;
        if (isNode(statement.exported)) this.exports.set(exportName(statement.exported), { source, imported: '*' });
        else this.starExports.push(source);
        return;
      }
      case 'ExportNamedDeclaration': {
        if (statement.exportKind === 'type') return;
        const source = isNode(statement.source) ? (statement.source.value as string) : undefined;
        for (const specifier of statement.specifiers as SyntaxNode[]) {
          if (specifier.exportKind === 'type') continue;
          const local = exportName(specifier.local as SyntaxNode);
          const exported = exportName(specifier.exported as SyntaxNode);
          this.exports.set(exported, source === undefined ? { local } : { source, imported: local });
        }
        for (const name of this.#declare(statement)) this.exports.set(name, { local: name });
        return;
      }
      case 'ExportDefaultDeclaration': {
        const declaration = statement.declaration as SyntaxNode;
        const named = isNode(declaration.id) ? (declaration.id.name as string) : undefined;
        if (named) this.#declare(statement);
        else this.declarations.set('default', { name: 'default', kind: 'default', line: this.lineOf(statement.start), node: declaration });
        this.exports.set('default', { local: named ?? 'default' });
        return;
      }
      default:
        this.#declare(statement);
    }
  }

  /** Records the declarations of a statement; returns their names. */
  #declare(statement: SyntaxNode): string[] {
    const declaration = unwrapExport(statement);
    if (!declaration) return [];
    const line = this.lineOf(statement.start);
    const add = (name: string, kind: Declaration['kind'], node: SyntaxNode) => {
      this.declarations.set(name, { name, kind, line, node });
      return name;
    };
    switch (declaration.type) {
      case 'FunctionDeclaration':
        return isNode(declaration.id) ? [add(declaration.id.name as string, 'function', declaration)] : [];
      case 'ClassDeclaration':
        return isNode(declaration.id) ? [add(declaration.id.name as string, 'class', declaration)] : [];
      case 'TSEnumDeclaration':
        return [add((declaration.id as SyntaxNode).name as string, 'enum', declaration)];
      case 'VariableDeclaration':
        // Each declarator is its own symbol: `const a = 1, b = f()` changes `b` alone when f's call does.
        return (declaration.declarations as SyntaxNode[]).flatMap((declarator) =>
          boundNames(declarator.id as SyntaxNode).map((name) => add(name, 'variable', declarator)),
        );
      default:
        return [];
    }
  }
}

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function exportName(node: SyntaxNode): string {
  return (node.type === 'Literal' ? node.value : node.name) as string;
}

let parseSync: typeof ParseSync | undefined;

/** Imports the parser, once: every look at the source files (refreshCodeAnalysis) awaits it first. */
export async function prepareParsing(): Promise<void> {
  parseSync ??= (await parserModule()).parseSync;
}

/** Parsed modules by file, kept while the file's stat (see StatKey) or, failing that, its content stays the same. */
const modules = new Map<string, { stat: StatKey; contentHash: string; module: SourceModule }>();

/** The module in `file`, parsed again only when the file changed. Throws CodeAnalysisError when it cannot be read or parsed. */
export function loadModule(file: string): SourceModule {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new CodeAnalysisError(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const known = modules.get(file);
  if (known && sameStat(known.stat, stat)) return known.module;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CodeAnalysisError(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const contentHash = hashBytes(text);
  // Touched but not changed (a checkout, a save without edits): keep the parsed module.
  const module = known && known.contentHash === contentHash ? known.module : new SourceModule(file, text);
  modules.set(file, { stat: statKey(stat), contentHash, module });
  return module;
}
