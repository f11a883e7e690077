import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporaryFolder } from '../helpers.js';

/** The repository: the littlepipes a test project installs. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** The built command line (npm test builds before testing). */
export const CLI = path.join(REPO, 'dist', 'cli', 'main.js');

/** A pipeline module over littlepipes as a user's project imports it. */
export const SALES_PIPELINE = `
import { Pipeline, Task } from 'littlepipes';

const load = new Task('Load', { description: 'Reads the raw sales rows.' })
  .process('run', (t) => { t.log.info('loaded 4 rows'); return [{ region: 'north', amount: 10 }, { region: 'south', amount: 5 }, { region: 'north', amount: 7 }, { region: 'east', amount: 1 }]; });

const clean = new Task('Clean', { dependencies: ['Load'], params: { minimum: 2 } })
  .process('run', (t) => t.result<{ region: string; amount: number }[]>('Load').filter((row) => row.amount >= t.params.minimum));

const totals = new Task('Totals', { dependencies: ['Clean'] })
  .process('run', (t) => {
    const totals: Record<string, number> = {};
    for (const row of t.result<{ region: string; amount: number }[]>('Clean')) totals[row.region] = (totals[row.region] ?? 0) + row.amount;
    return totals;
  });

const report = new Task('Report', { dependencies: ['Totals'] })
  .process('run', (t) => Object.entries(t.result<Record<string, number>>('Totals')).map(([region, total]) => region + ': ' + total).join('\\n'));

export const pipeline = new Pipeline('Sales').add(load, clean, totals, report);
`;

/**
 * A user's project in a temporary folder: package.json naming the pipeline module, littlepipes
 * installed (a link to this repository, as npm links a local package), and the module itself.
 */
export function makeProject(pipelineSource = SALES_PIPELINE, files: Record<string, string> = {}): string {
  const root = temporaryFolder('littlepipes-cli-');
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'sales', type: 'module', littlepipes: { pipeline: 'pipeline.ts' } }, null, 2));
  fs.mkdirSync(path.join(root, 'node_modules'));
  fs.symlinkSync(REPO, path.join(root, 'node_modules', 'littlepipes'), 'dir');
  fs.writeFileSync(path.join(root, 'pipeline.ts'), pipelineSource);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `littlepipes ...args` in `cwd` as a real child process, without colour or spinners. */
export function cli(cwd: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: cliEnv(), timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `littlepipes ...args` and collects what it prints, for commands that keep running. */
export function start(cwd: string, ...args: string[]): { child: ChildProcess; output: () => string; waitFor: (text: string | RegExp, from?: number) => Promise<number> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cliEnv() });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return {
    child,
    output: () => output,
    /** Resolves with the position after the first match at or after `from`; rejects after 30 s, showing the output. */
    waitFor(text, from = 0) {
      return new Promise((resolve, reject) => {
        const deadline = Date.now() + 30_000;
        const poll = () => {
          const rest = output.slice(from);
          const match = typeof text === 'string' ? (rest.includes(text) ? { index: rest.indexOf(text), length: text.length } : undefined) : (() => {
            const found = text.exec(rest);
            return found ? { index: found.index, length: found[0].length } : undefined;
          })();
          if (match) return resolve(from + match.index + match.length);
          if (Date.now() > deadline) return reject(new Error(`Timed out waiting for ${String(text)}. Output so far:\n${output}`));
          setTimeout(poll, 50);
        };
        poll();
      });
    },
  };
}

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: '1' };
  delete env.LITTLEPIPES_DIR;
  delete env.NODE_OPTIONS;
  return env;
}
