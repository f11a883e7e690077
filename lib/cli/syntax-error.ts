import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parserModule } from '../deferred-packages.js';

/** A syntax error in a JavaScript file, in Node's own words. */
export interface SyntaxProblem {
  file: string;
  line: number;
  /** From 1; undefined when Node did not point at it. */
  column?: number;
  message: string;
}

/** Files that Node, not the TypeScript loader, compiles: their syntax errors are Node's. */
const JAVASCRIPT = /\.[mc]?jsx?$/;

/**
 * Where a module that failed to load has the syntax error that stopped it, or undefined when the
 * failure was not one. Node's message for such an error in an ES module carries neither the file
 * nor the line, so the file is found and handed to `node --check`, whose answer is the one
 * `node file` would print: the file, the line, the column and the reason. A TypeScript file's
 * error comes from typescript/hooks.ts already in that form.
 */
export async function syntaxProblem(error: unknown, entry: string): Promise<SyntaxProblem | undefined> {
  if (!(error instanceof Error)) return undefined;
  // CommonJS and TypeScript: the stack opens with "<file>:<line>", the line and a caret under the place.
  const located = nodeSyntaxReport(error.stack ?? '', error.message);
  if (located) return located;
  if (error.name !== 'SyntaxError' || /^\s+at .*file:\/\//m.test(error.stack ?? '')) return undefined; // Thrown by code that ran, as JSON.parse does.
  for (const file of await filesWithParseErrors(entry)) {
    const problem = await checkSyntax(file);
    if (problem) return problem;
  }
  return undefined;
}

/** Node's own report of a syntax error in `file` (`node --check`), or undefined when Node finds none. */
async function checkSyntax(file: string): Promise<SyntaxProblem | undefined> {
  try {
    await promisify(execFile)(process.execPath, ['--check', file], { env: { ...process.env, NODE_OPTIONS: '' } });
    return undefined;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    return nodeSyntaxReport(stderr, /^SyntaxError: (.*)$/m.exec(stderr)?.[1]);
  }
}

/** The file, line and column of Node's "<file>:<line>\n<source line>\n<carets>" header. */
function nodeSyntaxReport(text: string, message: string | undefined): SyntaxProblem | undefined {
  const header = /^(?:file:\/\/)?(\/[^\n]*|[A-Za-z]:\\[^\n]*):(\d+)\n[^\n]*\n( *)\^/.exec(text);
  if (!header || message === undefined) return undefined;
  return { file: header[1]!, line: Number(header[2]), column: header[3]!.length + 1, message };
}

/**
 * The JavaScript files the parser finds syntax errors in, among `entry` and the project files it
 * imports, near ones first. The parser only picks the candidates: Node decides.
 */
async function filesWithParseErrors(entry: string): Promise<string[]> {
  const { parseSync } = await parserModule();
  const found: string[] = [];
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0 && seen.size < 500) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const parsed = parseSync(file, text, { sourceType: file.endsWith('.cjs') ? 'script' : 'module' });
    if (parsed.errors.length > 0 && JAVASCRIPT.test(file)) found.push(file);
    const specifiers = [...parsed.module.staticImports.map((item) => item.moduleRequest.value), ...parsed.module.staticExports.flatMap((item) => item.entries.map((each) => each.moduleRequest?.value))];
    for (const specifier of specifiers) {
      const next = specifier?.startsWith('.') ? localFile(path.resolve(path.dirname(file), specifier)) : undefined;
      if (next) queue.push(next);
    }
  }
  return found;
}

/** The file an import of `target` loads: as written, or the TypeScript file a `.js` specifier stands for. */
function localFile(target: string): string | undefined {
  for (const candidate of [target, target.replace(/\.([mc]?)js$/, '.$1ts'), target.replace(/\.jsx$/, '.tsx')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}
