// What the catalogue of bad inputs shares: assertions on errors (exact class, stable code, a
// message naming the wrong thing), a pipeline with results already cached (so each bad call can
// be checked not to lose them), the command line's one-line errors, and a shell driven in-process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { type LittlepipesError, type Pipeline, PipelineRunError, RunReport, Shell, Task, type AnyTask } from '../../lib/index.js';
import { CLI, type CliResult } from '../cli/project.js';
import { testPipeline } from '../helpers.js';

export type ErrorClass<E> = new (...args: any[]) => E;
export type Fragment = string | RegExp;

/** Asserts `error` is an instance of `Class` with `code`, and that its message holds every fragment. */
export function checkError<E extends LittlepipesError>(error: unknown, Class: ErrorClass<E>, code: string, fragments: Fragment[]): E {
  assert.ok(error instanceof Class, `expected ${Class.name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  assert.equal(error.code, code);
  for (const fragment of fragments) {
    if (typeof fragment === 'string') assert.ok(error.message.includes(fragment), `message "${error.message}" lacks ${JSON.stringify(fragment)}`);
    else assert.match(error.message, fragment);
  }
  return error;
}

/** Asserts `fn` throws an instance of `Class` with `code` and a message containing every fragment. */
export function throwsError<E extends LittlepipesError>(fn: () => unknown, Class: ErrorClass<E>, code: string, ...fragments: Fragment[]): E {
  let caught: E | undefined;
  assert.throws(fn, (error: unknown) => {
    caught = checkError(error, Class, code, fragments);
    return true;
  });
  return caught!;
}

/** Asserts `promise` rejects with an instance of `Class` with `code` and a message containing every fragment. */
export async function rejectsWith<E extends LittlepipesError>(promise: Promise<unknown>, Class: ErrorClass<E>, code: string, ...fragments: Fragment[]): Promise<E> {
  let caught: E | undefined;
  await assert.rejects(promise, (error: unknown) => {
    caught = checkError(error, Class, code, fragments);
    return true;
  });
  return caught!;
}

/** Asserts the run rejects with PipelineRunError and returns its report. */
export async function failedRun(promise: Promise<unknown>): Promise<RunReport> {
  const error = await rejectsWith(promise, PipelineRunError, 'ERR_RUN_FAILED');
  assert.ok(error.report instanceof RunReport, 'PipelineRunError carries the RunReport');
  return error.report;
}

/** A task whose run process returns `value`. */
export function run(name: string, value: unknown, dependencies: string[] = []): AnyTask {
  return new Task(name, { dependencies }).process('run', () => value);
}

/** A pipeline with Load -> Report already run, so that later bad calls can be checked not to lose it. */
export async function cachedPipeline(name: string): Promise<Pipeline<AnyTask>> {
  const pipeline = testPipeline(name).add(run('Load', [1, 2, 3]), run('Report', 'ok', ['Load']));
  await pipeline.execute({ progress: false });
  return pipeline;
}

/** The results cached before a bad call are still served after it. */
export async function assertStillCached(pipeline: Pipeline<any>): Promise<void> {
  assert.deepEqual(await pipeline.getResult('Load'), [1, 2, 3]);
  assert.equal(await pipeline.getResult('Report'), 'ok');
}

// ================================================================ the command line

/** A stack trace line from inside a program: what the command line never prints without --verbose. */
export const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/**
 * Asserts the command exited with `code` and wrote exactly one line on stderr, `littlepipes: ...`,
 * holding every fragment, with no stack. Returns the line.
 */
export function oneErrorLine(result: CliResult, code: number, ...fragments: Fragment[]): string {
  assert.equal(result.code, code, `exit code ${result.code}, stderr:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, STACK_LINE);
  const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  const [line] = lines as [string];
  assert.ok(line.startsWith('littlepipes: '), line);
  for (const fragment of fragments) {
    if (typeof fragment === 'string') assert.ok(line.includes(fragment), `"${line}" lacks ${JSON.stringify(fragment)}`);
    else assert.match(line, fragment);
  }
  return line;
}

/** Runs `littlepipes ...args` in `cwd` with `input` piped to its stdin. */
export function cliWithInput(cwd: string, input: string, ...args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: '1' };
  delete env.LITTLEPIPES_DIR;
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

// ================================================================ the shell

/** A shell that also keeps the errors it shows, so tests can check their class. */
export class RecordingShell extends Shell {
  readonly errors: unknown[] = [];

  override printError(error: unknown): void {
    this.errors.push(error);
    super.printError(error);
  }
}

const PROMPT = 'bad> ';

/**
 * A shell on `pipeline`, in-process, reading from and writing to streams: `send(line)` types a
 * line and resolves with what the shell printed before its next prompt. `close()` ends the input
 * and waits for the shell to leave.
 */
export async function shellSession(pipeline: Pipeline<any>, setup: (shell: RecordingShell) => void = () => {}, options: { verbose?: boolean } = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk) => (printed += chunk));
  const shell = new RecordingShell({ pipeline, input, output, prompt: PROMPT, verbose: options.verbose ?? false });
  setup(shell);
  const running = shell.run();
  const nextPrompt = async (): Promise<string> => {
    const deadline = Date.now() + 10_000;
    while (!printed.endsWith(PROMPT)) {
      if (Date.now() > deadline) throw new Error(`No prompt came back. The shell printed:\n${printed}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const text = printed.slice(0, -PROMPT.length);
    printed = '';
    return text;
  };
  await nextPrompt(); // The title and header.
  return {
    shell,
    /** Types `line`; resolves with what was printed before the next prompt, without the final newline. */
    async send(line: string): Promise<string> {
      input.write(`${line}\n`);
      return (await nextPrompt()).replace(/\n$/, '');
    },
    async close(): Promise<void> {
      input.end();
      await running;
    },
  };
}
