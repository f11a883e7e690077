/**
 * Code fingerprints of a generated pipeline: 1,000 tasks sharing 200 helpers across 20 modules
 * (plus a shared module), each task calling two helpers whose calls go up to ten deep. Each round
 * runs in a fresh Node process, so "cold" parses every module for the first time; "unchanged"
 * fingerprints again with nothing edited; "one edit" after changing a constant in one module.
 * Baseline in the same process: reading and parsing every file with oxc-parser, the floor of
 * any analysis that reads the source.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Figure, fmt, list, median } from './util.js';

const BENCH = 'fingerprint';
const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const MODULES = 20;
const HELPERS = 10;
const TASKS = 1000;
const ROUNDS = 5;

function generate(folder: string): void {
  const library = pathToFileURL(path.join(ROOT, 'lib', 'index.ts')).href;
  const shared = Array.from({ length: MODULES }, (_, j) => `/** Base step ${j}. */\nexport function base${j}(x: number): number {\n  return Math.round(x * ${j + 1}) / 2;\n}\n`).join('\n');
  fs.writeFileSync(path.join(folder, 'shared.ts'), shared);
  for (let j = 0; j < MODULES; j++) {
    let text = `import { base${j} } from './shared.js';\n\nexport const RATE_${j} = ${j}.5;\n\n`;
    for (let i = 0; i < HELPERS; i++) {
      const inner = i === 0 ? `base${j}(x)` : `h${j}_${i - 1}(x)`;
      text += `/** Helper ${i} of module ${j}. */\nexport function h${j}_${i}(x: number): number {\n  const scaled = ${inner} * RATE_${j};\n  return scaled > 1e9 ? scaled / 2 : scaled + ${i};\n}\n\n`;
    }
    fs.writeFileSync(path.join(folder, `m${j}.ts`), text);
  }
  let pipeline = `import { Pipeline, Task } from '${library}';\n`;
  for (let j = 0; j < MODULES; j++) pipeline += `import * as m${j} from './m${j}.js';\n`;
  for (let k = 0; k < TASKS; k++) {
    const a = k % MODULES;
    const b = (k * 7 + 3) % MODULES;
    pipeline += `export const t${k} = new Task('T${k}').process('run', () => m${a}.h${a}_${k % HELPERS}(${k}) + m${b}.h${b}_${(k * 3) % HELPERS}(1));\n`;
  }
  pipeline += `export const pipeline = new Pipeline('Fingerprint').add(${Array.from({ length: TASKS }, (_, k) => `t${k}`).join(', ')});\n`;
  fs.writeFileSync(path.join(folder, 'pipeline.ts'), pipeline);
  fs.writeFileSync(
    path.join(folder, 'measure.ts'),
    `import fs from 'node:fs';
import { parseSync } from 'oxc-parser';
import { CodeAnalysis } from '${pathToFileURL(path.join(ROOT, 'lib', 'fingerprint', 'code.ts')).href}';
import { prepareParsing } from '${pathToFileURL(path.join(ROOT, 'lib', 'fingerprint', 'source-module.ts')).href}';
import { pipeline } from './pipeline.js';
// The parser loads at the first look at the source files (as a plan's refreshCodeAnalysis does), outside the timings.
await prepareParsing();
const tasks = pipeline.tasks;
const files = fs.readdirSync('.').filter((file) => /^(m\\d+|shared|pipeline)\\.ts$/.test(file)).map((file) => fs.realpathSync(file));
const analyse = () => { const start = performance.now(); const analysis = new CodeAnalysis(); let symbols = 0; for (const task of tasks) symbols += Object.keys(analysis.fingerprint(task).symbols).length; return { ms: performance.now() - start, symbols }; };
const cold = analyse();
let start = performance.now();
for (const file of files) parseSync(file, fs.readFileSync(file, 'utf8'));
const baseline = performance.now() - start;
const unchanged = [analyse(), analyse(), analyse()].map((run) => run.ms).sort((a, b) => a - b)[1];
fs.writeFileSync('m5.ts', fs.readFileSync('m5.ts', 'utf8').replace('RATE_5 = 5.5', 'RATE_5 = 6.5'));
const edited = analyse();
console.log(JSON.stringify({ cold: cold.ms, symbols: cold.symbols, baseline, unchanged, edited: edited.ms }));
`,
  );
}

export async function fingerprintBench(log: (line: string) => void): Promise<Figure[]> {
  fs.mkdirSync(path.join(ROOT, 'bench', '.work'), { recursive: true });
  const rounds: { cold: number; baseline: number; unchanged: number; edited: number; symbols: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Inside the repository, so the generated modules resolve oxc-parser and tsx from its node_modules.
    const folder = fs.mkdtempSync(path.join(ROOT, 'bench', '.work', 'fingerprint-'));
    try {
      generate(folder);
      const child = spawnSync(process.execPath, ['--import', 'tsx', 'measure.ts'], { cwd: folder, encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`fingerprint bench failed:\n${child.stderr}`);
      const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
      rounds.push(result);
      log(`fingerprint: round ${round + 1}/${ROUNDS}: cold ${fmt(result.cold)} ms, unchanged ${fmt(result.unchanged)} ms, one edit ${fmt(result.edited)} ms; read+parse baseline ${fmt(result.baseline)} ms; ${result.symbols} symbols reached`);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }
  const pick = (key: 'cold' | 'baseline' | 'unchanged' | 'edited') => rounds.map((round) => round[key]);
  const cold = median(pick('cold'));
  const baseline = median(pick('baseline'));
  log(`  ${TASKS} tasks, ${MODULES * HELPERS} helpers in ${MODULES} modules: cold ${fmt(cold)} ms ${list(pick('cold'))}, unchanged ${fmt(median(pick('unchanged')))} ms ${list(pick('unchanged'))}, one edit ${fmt(median(pick('edited')))} ms`);
  log(`  cold / (read + parse every file once): ${fmt(cold / baseline, 2)}`);
  return [
    { bench: BENCH, name: 'cold ms (1,000 tasks, 200 helpers, 20 modules)', value: cold, unit: 'ms', max: 300 },
    { bench: BENCH, name: 'unchanged ms', value: median(pick('unchanged')), unit: 'ms', max: 50 },
    { bench: BENCH, name: 'one module edited ms', value: median(pick('edited')), unit: 'ms' },
    { bench: BENCH, name: 'read+parse baseline ms', value: baseline, unit: 'ms' },
    { bench: BENCH, name: 'cold / read+parse', value: cold / baseline, unit: 'x' },
  ];
}
