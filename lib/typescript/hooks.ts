// Module hooks (module.register) that load a project's TypeScript files, and only those: a .ts,
// .mts, .cts or .tsx file outside node_modules is compiled here with oxc-transform; every other
// module goes on to Node's own loader untouched. They run on Node's hooks thread, so this file
// stays small and loads the compiler only for the first TypeScript file.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

type Transform = typeof import('oxc-transform').transformSync;

interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;
interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: object) => Promise<LoadResult>;

const TYPESCRIPT = /\.[cm]?tsx?$/;
/** `./steps.js` in a TypeScript project means `./steps.ts`, as tsc has it written. */
const TYPESCRIPT_OF: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'], '.jsx': ['.tsx'] };
/** What an import without an extension may mean (tsc's `moduleResolution: bundler`). */
const WITHOUT_EXTENSION = ['.ts', '.tsx', '.mts', '.js', '.mjs', '/index.ts', '/index.js'];

let transform: Transform | undefined;

/** Whether a module URL is a project's TypeScript file, for this loader to compile. */
function isProjectTypeScript(url: string): boolean {
  return url.startsWith('file:') && TYPESCRIPT.test(url) && !url.includes('/node_modules/');
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string }> {
  try {
    return await next(specifier, context);
  } catch (error) {
    const parent = context.parentURL;
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || !/^\.\.?\//.test(specifier) || !parent || parent.includes('/node_modules/')) throw error;
    const extension = /\.[cm]?jsx?$/.exec(specifier)?.[0];
    const candidates = extension ? TYPESCRIPT_OF[extension]!.map((typescript) => specifier.slice(0, -extension.length) + typescript) :
      /\.[^./]+$/.test(specifier) ? [] : WITHOUT_EXTENSION.map((ending) => specifier.replace(/\/$/, '') + ending);
    for (const candidate of candidates) {
      const url = new URL(candidate, parent);
      if (fs.existsSync(url) && fs.statSync(url).isFile()) return next(candidate, context);
    }
    throw error;
  }
}

export async function load(url: string, context: object, next: NextLoad): Promise<LoadResult> {
  if (!isProjectTypeScript(url)) return next(url, context);
  const file = fileURLToPath(url);
  const text = fs.readFileSync(file, 'utf8');
  transform ??= (await import('oxc-transform')).transformSync;
  const { code, map, errors } = transform(file, text, { sourcemap: true });
  const error = errors.find((each) => each.severity === 'Error');
  if (error) throw syntaxError(file, text, error);
  // Inline, so that Node maps stacks and findSourceMap() (call sites) to the file as written.
  const mapComment = map ? `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}` : '';
  return { format: url.endsWith('.cts') ? 'commonjs' : 'module', source: code + mapComment, shortCircuit: true };
}

/**
 * The compiler's error as Node reports a syntax error in JavaScript: a stack that opens with the
 * file and line, the line itself and a caret under the column, then `SyntaxError: <reason>`.
 */
function syntaxError(file: string, text: string, error: { message: string; labels: { start: number }[] }): SyntaxError {
  const offset = error.labels[0]?.start ?? 0;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const source = text.slice(lineStart).split('\n', 1)[0]!;
  const result = new SyntaxError(error.message);
  result.stack = `${file}:${line}\n${source}\n${' '.repeat(offset - lineStart)}^\n\nSyntaxError: ${error.message}`;
  return result;
}
