import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RunReport } from '../lib/index.js';
import { temporaryFolder } from './helpers.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** Debian's Jupyter: its script runs Debian's python3, whatever python3 comes first on PATH. */
const JUPYTER = '/usr/bin/jupyter';
/** Where scripts/setup-test-tools.sh puts the tslab kernelspec. */
const KERNELS = path.join(root, '.tools', 'jupyter');

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}
interface Cell {
  cell_type: string;
  metadata: { tags?: string[] };
  outputs?: Output[];
}

const joined = (text: string | string[] | undefined) => (Array.isArray(text) ? text.join('') : (text ?? ''));
/** Colour codes tslab's own console.log adds on a terminal; littlepipes' output must not need this. */
const withoutColour = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

/**
 * Runs the sample notebook as an analyst who installed littlepipes would: a copy in its own
 * folder, littlepipes and arquero in that folder's node_modules, every cell executed in a real
 * tslab kernel. Jupyter runs under a pseudo-terminal, like a Jupyter started from a shell, whose
 * kernel then inherits a terminal for stdout and stderr: where a spinner would start if
 * littlepipes let it.
 */
function executeSampleNotebook(): Cell[] {
  if (!fs.existsSync(JUPYTER) || !fs.existsSync(path.join(KERNELS, 'kernels', 'tslab', 'kernel.json'))) {
    assert.fail(`Jupyter (${JUPYTER}) or the tslab kernelspec (${KERNELS}) is missing: run bash scripts/setup-test-tools.sh`);
  }
  const folder = temporaryFolder('littlepipes-notebook-');
  for (const file of ['notebook.ipynb', 'data']) {
    fs.cpSync(path.join(root, 'samples', file), path.join(folder, file), { recursive: true });
  }
  fs.mkdirSync(path.join(folder, 'node_modules'));
  fs.symlinkSync(root, path.join(folder, 'node_modules', 'littlepipes'), 'dir');
  // The analyst's own table package, which a task of the notebook uses.
  fs.symlinkSync(path.join(root, 'node_modules', 'arquero'), path.join(folder, 'node_modules', 'arquero'), 'dir');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: KERNELS,
    JUPYTER_CONFIG_DIR: path.join(folder, '.jupyter', 'config'),
    JUPYTER_DATA_DIR: path.join(folder, '.jupyter', 'data'),
    JUPYTER_RUNTIME_DIR: path.join(folder, '.jupyter', 'runtime'),
    LITTLEPIPES_DIR: path.join(folder, 'cache'),
    CI: '',
    TERM: 'xterm',
  };
  delete env.NO_COLOR;
  const nbconvert = [
    JUPYTER, 'nbconvert', '--to', 'notebook', '--execute',
    // tslab reports a failing cell on stderr, not as an error output; with --allow-errors the
    // notebook is still written, so a failure below can quote what the kernel said.
    '--allow-errors', '--ExecutePreprocessor.timeout=120', '--ExecutePreprocessor.startup_timeout=120',
    'notebook.ipynb', '--output', 'executed.ipynb',
  ].join(' ');
  const child = spawnSync('script', ['-qfec', `stty cols 100 rows 30; ${nbconvert}`, '/dev/null'], {
    cwd: folder,
    env,
    encoding: 'utf8',
    timeout: 280_000,
  });
  assert.equal(child.status, 0, `nbconvert failed:\n${child.stdout.slice(-4000)}${child.stderr}`);
  return (JSON.parse(fs.readFileSync(path.join(folder, 'executed.ipynb'), 'utf8')) as { cells: Cell[] }).cells;
}

/** Task name → [status, why] from the report's HTML table. */
function reportRows(html: string): Record<string, [string, string]> {
  const cells = '<td[^>]*>([^<]*)</td>';
  const rows = [...html.matchAll(new RegExp(`<tr>${cells}${cells}${cells}`, 'g'))];
  return Object.fromEntries(rows.map(([, name, status, why]) => [name!, [status!, why!]]));
}

test('the sample notebook runs in tslab: plain progress, the report as HTML, results across cells, an edited task re-run alone, a cached table shown as a table', { timeout: 300_000 }, () => {
  const cells = executeSampleNotebook().filter((cell) => cell.cell_type === 'code');
  const tagged = (tag: string) => {
    const cell = cells.find((candidate) => candidate.metadata.tags?.includes(tag));
    assert.ok(cell, `the notebook has a cell tagged ${tag}`);
    return cell.outputs ?? [];
  };
  const stdout = (outputs: Output[]) => outputs.filter((output) => output.name === 'stdout').map((output) => joined(output.text)).join('');
  const html = (outputs: Output[]) => {
    const shown = outputs.filter((output) => output.output_type === 'display_data' && output.data?.['text/html']);
    assert.equal(shown.length, 1, 'the run shows one HTML output, the report');
    return joined(shown[0]!.data!['text/html']);
  };

  for (const output of cells.flatMap((cell) => cell.outputs ?? [])) {
    assert.notEqual(output.output_type, 'error', JSON.stringify(output));
    assert.notEqual(output.name, 'stderr', `nothing is written to stderr: ${joined(output.text)}`);
  }

  for (const tag of ['execute', 're-execute']) {
    for (const output of tagged(tag)) {
      const text = JSON.stringify(output);
      assert.doesNotMatch(text, /\\u001b\[/, `${tag}: no escape codes (${text.slice(0, 300)})`);
      assert.doesNotMatch(text, /\\r/, `${tag}: no carriage-return redraws`);
    }
  }

  const first = tagged('execute');
  for (const task of ['Load', 'Clean', 'ByRegion']) {
    assert.match(stdout(first), new RegExp(`^▶ ${task} started$`, 'm'));
    assert.match(stdout(first), new RegExp(`^✔ ${task} done in [\\d.]+ ms$`, 'm'));
  }
  const firstReport = html(first);
  assert.match(firstReport, /^<table[^>]*>.*<\/table>$/s);
  assert.deepEqual(reportRows(firstReport), { Load: ['ran', 'not cached'], Clean: ['ran', 'not cached'], ByRegion: ['ran', 'not cached'] });
  assert.match(firstReport, /Sales: 3 ran in/);

  const totals = withoutColour(stdout(tagged('result')));
  assert.match(totals, /'East'\s+│ 2\s+│ 12\s+│ 48\.75\s+│/);
  assert.match(totals, /'North'\s+│ 3\s+│ 21\s+│ 77\.25\s+│/);
  assert.match(totals, /'South'\s+│ 3\s+│ 24\s+│ 94\.5\s+│/);

  assert.equal(withoutColour(stdout(tagged('redefine'))).trim(), 'true', 'the pipeline holds the new definition of ByRegion');

  const rerun = tagged('re-execute');
  const lines = stdout(rerun).trimEnd().split('\n').map((line) => line.replace(/ in [\d.]+ ms$/, ''));
  assert.deepEqual(lines, ['▶ ByRegion started', '✔ ByRegion done'], 'only ByRegion runs');
  const rows = reportRows(html(rerun));
  assert.deepEqual(Object.keys(rows), ['Load', 'Clean', 'ByRegion']);
  assert.deepEqual(rows.Load, ['cached', '']);
  assert.deepEqual(rows.Clean, ['cached', '']);
  assert.equal(rows.ByRegion?.[0], 'ran');
  assert.match(rows.ByRegion?.[1] ?? '', /^code changed/);

  const edited = withoutColour(stdout(tagged('result-after-edit')));
  assert.match(edited, /'East'\s+│ 2\s+│ 12\s+│ 48\.75\s+│ 4\.06\s+│/);
  assert.match(edited, /'North'\s+│ 3\s+│ 21\s+│ 77\.25\s+│ 3\.68\s+│/);
  assert.match(edited, /'South'\s+│ 3\s+│ 24\s+│ 94\.5\s+│ 3\.94\s+│/);

  const productRun = tagged('table-define');
  assert.deepEqual(stdout(productRun).trimEnd().split('\n').map((line) => line.replace(/ in [\d.]+ ms$/, '')), ['▶ ByProduct started', '✔ ByProduct done'], 'only the new task runs');
  assert.deepEqual(Object.values(reportRows(html(productRun))).map(([status]) => status), ['cached', 'cached', 'cached', 'ran']);

  const shown = html(tagged('table-result'));
  assert.match(shown, /^<table class="littlepipes-result">.*<\/table>$/s);
  assert.match(shown, /<caption[^>]*>arquero table of 2 rows × 4 columns<br><small>product: \w+, orders: \w+, units: \w+, revenue: \w+<\/small><\/caption>/);
  assert.match(shown, /<thead><tr><th>product<\/th><th>orders<\/th><th>units<\/th><th>revenue<\/th><\/tr><\/thead>/);
  assert.match(shown, /<tr><td>Coffee<\/td><td>4<\/td><td>28<\/td><td>119<\/td><\/tr><tr><td>Tea<\/td><td>4<\/td><td>29<\/td><td>101\.5<\/td><\/tr>/);
});

test('in a script, two different tasks under one name are a DuplicateTaskError that names the task and the way out', () => {
  const folder = temporaryFolder();
  const script = path.join(folder, 'two-loads.mts');
  fs.writeFileSync(
    script,
    `import { Pipeline, Task } from ${JSON.stringify(path.join(root, 'lib', 'index.ts'))};
const pipeline = new Pipeline('Script', { cacheDir: ${JSON.stringify(path.join(folder, 'cache'))} });
pipeline.add(new Task('Load').process('run', () => 1));
pipeline.add(new Task('Load').process('run', () => 2));
`,
  );
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8' });
  assert.equal(child.status, 1, child.stderr);
  assert.match(child.stderr, /DuplicateTaskError: The pipeline already has a different task named "Load"\. Use pipeline\.replace\(task\)/);
  assert.match(child.stderr, /code: 'ERR_DUPLICATE_TASK'/);
});

test('the HTML report is one table, a row per task, with names and messages escaped', () => {
  const error = new Error('bad <input> & "quotes"');
  const report = new RunReport('Sales & <Co>', new Date(0), 12, [
    { name: '<b>Load</b>', status: 'ran', reason: 'not cached', ms: 12, processes: [{ name: 'run', calls: 1, ms: 11 }] },
    { name: 'Clean', status: 'failed', reason: 'failed', ms: 3, processes: [], error },
    { name: 'Sum', status: 'blocked', reason: 'needs Clean, which failed', ms: 0, processes: [] },
  ]);
  const html = report.toHTML();
  assert.match(html, /^<table[^>]*>.*<\/table>$/s);
  assert.equal(html.match(/<tr>/g)?.length, 4, 'a header row and one row per task');
  assert.match(html, /<td[^>]*>&lt;b&gt;Load&lt;\/b&gt;<\/td><td[^>]*>ran<\/td><td[^>]*>not cached<\/td><td[^>]*>12 ms<\/td><td[^>]*>run 11 ms<\/td>/);
  assert.match(html, /<td[^>]*>Clean<\/td><td[^>]*>failed<\/td><td[^>]*>bad &lt;input&gt; &amp; &quot;quotes&quot;<\/td>/);
  assert.match(html, /<td[^>]*>Sum<\/td><td[^>]*>blocked<\/td><td[^>]*>needs Clean, which failed<\/td>/);
  assert.match(html, /<caption[^>]*>Sales &amp; &lt;Co&gt;: 1 ran, 1 failed, 1 blocked in 12 ms<\/caption>/);
  assert.doesNotMatch(html, /<b>|<input>/);
});
