import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PipelineLoadError } from '../errors.js';
import { describeValue } from '../names.js';
import type { Pipeline } from '../pipeline.js';
import { syntaxProblem } from './syntax-error.js';

/** Where the command line looks when neither `--pipeline` nor package.json names the module. */
const CONVENTIONAL_FILES = ['pipeline.ts', 'pipeline.mts', 'pipeline.js', 'pipeline.mjs'];

/** A pipeline module found and loaded. */
export interface LoadedPipeline {
  pipeline: Pipeline;
  /** The module's absolute path. */
  file: string;
  /** The folder of the nearest package.json (or the working directory): the project being worked on. */
  projectRoot: string;
}

/**
 * The pipeline module to load: `--pipeline FILE` when given, else `littlepipes.pipeline` in the
 * nearest package.json, else `pipeline.ts` (or .mts, .js, .mjs) in the working directory.
 */
export function findPipelineFile(explicit: string | undefined, cwd = process.cwd()): { file: string; projectRoot: string } {
  const packageFile = nearestPackageJson(cwd);
  const projectRoot = packageFile ? path.dirname(packageFile) : cwd;
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) throw new PipelineLoadError(file, `Pipeline file ${explicit} does not exist (looked at ${file}). Check the path given to --pipeline.`);
    return { file, projectRoot };
  }
  if (packageFile) {
    const declared = readDeclaredPipeline(packageFile);
    if (declared !== undefined) {
      const file = path.resolve(projectRoot, declared);
      if (!fs.existsSync(file)) throw new PipelineLoadError(file, `${packageFile} names the pipeline "${declared}", but ${file} does not exist. Fix "littlepipes": { "pipeline": ... } in package.json.`);
      return { file, projectRoot };
    }
  }
  for (const name of CONVENTIONAL_FILES) {
    const file = path.join(cwd, name);
    if (fs.existsSync(file)) return { file, projectRoot };
  }
  throw new PipelineLoadError(
    undefined,
    `No pipeline found in ${cwd}. Pass --pipeline FILE, or name it in package.json: "littlepipes": { "pipeline": "pipeline.ts" }.`,
  );
}

let prepared: Promise<void> | undefined;

/**
 * Imports a TypeScript or JavaScript module and returns the pipeline it exports (as `pipeline`,
 * or as its default export). TypeScript loads with no build step (see typescript/hooks.ts).
 */
export async function loadPipeline(explicit?: string, cwd = process.cwd()): Promise<LoadedPipeline> {
  const { file, projectRoot } = findPipelineFile(explicit, cwd);
  prepared ??= prepareLoading();
  await prepared;
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const name = path.relative(cwd, file) || file;
    const syntax = await syntaxProblem(error, file);
    if (syntax) {
      const at = `${path.relative(cwd, syntax.file) || syntax.file}:${syntax.line}${syntax.column ? `:${syntax.column}` : ''}`;
      throw new PipelineLoadError(file, `Cannot load the pipeline ${name}: a syntax error at ${at}: ${syntax.message.replace(/\.$/, '')}. Fix the module and try again.`, { cause: error });
    }
    const where = error instanceof Error ? firstFrameIn(error, projectRoot) : undefined;
    throw new PipelineLoadError(file, `Cannot load the pipeline ${name}: ${loadProblem(error, file, cwd)}${where ? ` (at ${where})` : ''}. Fix the module and try again.`, { cause: error });
  }
  const pipeline = namespace.pipeline ?? namespace.default;
  if (!isPipeline(pipeline)) {
    const exported = Object.keys(namespace).filter((key) => key !== 'default');
    const name = path.relative(cwd, file) || file;
    const [what, value] = namespace.pipeline !== undefined ? ['`pipeline` export', namespace.pipeline] : ['default export', namespace.default];
    const found = value !== undefined ? `${name}: its ${what} is ${describeValue(value)}, not a Pipeline.` :
      `${name} exports no pipeline${exported.length > 0 ? ` (it exports ${exported.join(', ')})` : ''}.`;
    throw new PipelineLoadError(file, `${found} Add \`export const pipeline = new Pipeline('Name').add(...)\`.`);
  }
  return { pipeline, file, projectRoot };
}

/**
 * Once the TypeScript hooks are registered, every module loaded goes through them, a round trip
 * to their thread each: what the pipeline module and the commands will need (the package's
 * public API, which the module imports by name, the parser, the result hasher) is loaded before.
 */
async function prepareLoading(): Promise<void> {
  const [, { registerTypeScript }] = await Promise.all([
    import('../index.js'),
    // Imported here, not at the top: --version, --help and usage errors load no pipeline.
    import('../typescript/register.js'),
    import('../fingerprint/source-module.js').then(({ prepareParsing }) => prepareParsing()),
    import('../fingerprint/hash.js').then(({ prepareHashing }) => prepareHashing()),
  ]);
  registerTypeScript();
}

/**
 * Duck-typed on purpose: a pipeline module may import another copy of littlepipes than the
 * command's (a global install running a project's local one), and that one works just as well.
 */
function isPipeline(value: unknown): value is Pipeline {
  const candidate = value as Partial<Pipeline> | undefined;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.execute === 'function' &&
    typeof candidate.plan === 'function' && typeof candidate.getResult === 'function' && typeof candidate.name === 'string';
}

function nearestPackageJson(from: string): string | undefined {
  for (let folder = path.resolve(from); ; folder = path.dirname(folder)) {
    const candidate = path.join(folder, 'package.json');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(folder) === folder) return undefined;
  }
}

function readDeclaredPipeline(packageFile: string): string | undefined {
  let manifest: { littlepipes?: { pipeline?: unknown } };
  try {
    manifest = JSON.parse(fs.readFileSync(packageFile, 'utf8')) as typeof manifest;
  } catch (error) {
    throw new PipelineLoadError(packageFile, `Cannot read ${packageFile}: ${(error as Error).message}. Fix its JSON.`, { cause: error });
  }
  const declared = manifest.littlepipes?.pipeline;
  if (declared === undefined) return undefined;
  if (typeof declared !== 'string' || declared === '') {
    throw new PipelineLoadError(packageFile, `${packageFile}: "littlepipes.pipeline" must be a file path such as "pipeline.ts", got ${JSON.stringify(declared)}.`);
  }
  return declared;
}

/**
 * Why the import failed, on one line: a syntax error from the TypeScript loader spans several
 * ("Transform failed with 1 error:" then "<file>:3:0: ERROR: ..."), and a module may throw a non-Error.
 */
function loadProblem(error: unknown, file: string, cwd: string): string {
  if (!(error instanceof Error)) return `it threw ${describeValue(error)}`;
  const lines = error.message.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.join(' ').replaceAll(file, path.relative(cwd, file) || file);
}

/** `src/steps.ts:12` for the first frame of the stack inside the project (not in node_modules). */
function firstFrameIn(error: Error, projectRoot: string): string | undefined {
  for (const match of (error.stack ?? '').matchAll(/(?:file:\/\/)?(\/[^\s():]+):(\d+):\d+/g)) {
    const [, file, line] = match;
    if (file && file.startsWith(projectRoot) && !file.includes('/node_modules/')) return `${path.relative(process.cwd(), file)}:${line}`;
  }
  return undefined;
}
