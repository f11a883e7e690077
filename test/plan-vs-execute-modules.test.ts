import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Plan against execute when helper modules are edited. A generated project: three modules, each
 * with a constant and three helpers (one calling a helper of the next module), and tasks that call
 * helpers and depend on earlier tasks. Each round applies a random edit (a constant, a helper's
 * body, a comment, a reordering, an unused export), then a fresh process plans and executes.
 * Checked: the plan agrees with the run, and exactly the tasks whose helpers reach the edited code
 * re-run for "code changed". Set MODULE_SEED to replay one seed.
 */

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const library = pathToFileURL(path.join(root, 'lib', 'index.ts')).href;
const MODULES = 3;
const ROUNDS = 12;

function random(seed: number) {
  let state = seed >>> 0;
  return (below: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

interface Model {
  constants: number[];
  /** A literal in each helper's body, by `j.i`: editing it changes that helper alone. */
  bodies: Map<string, number>;
  /** The order of each module's helpers in its file. */
  order: number[][];
  comments: number;
  unused: number;
}

function moduleText(model: Model, j: number): string {
  const next = (j + 1) % MODULES;
  const helper = (i: number) => {
    const k = model.bodies.get(`${j}.${i}`)!;
    if (i === 0) return `export function h${j}_0(x: number): number {\n  return x + C${j} + ${k};\n}\n`;
    if (i === 1) return `export function h${j}_1(x: number): number {\n  return h${j}_0(x) * 2 + ${k};\n}\n`;
    return `export function h${j}_2(x: number): number {\n  return h${next}_0(x) - ${k};\n}\n`;
  };
  return `import { h${next}_0 } from './m${next}.js';\n` +
    `${'// note\n'.repeat(model.comments)}\nexport const C${j} = ${model.constants[j]};\n` +
    `export const unused${j} = () => ${model.unused};\n\n${model.order[j]!.map(helper).join('\n')}`;
}

/** The symbols each helper reaches: itself, what it calls, and the constants on the way. */
function reach(j: number, i: number): string[] {
  const next = (j + 1) % MODULES;
  if (i === 0) return [`h${j}_0`, `C${j}`];
  if (i === 1) return [`h${j}_1`, ...reach(j, 0)];
  return [`h${j}_2`, ...reach(next, 0)];
}

function scenario(seed: number): void {
  const rnd = random(seed);
  const folder = fs.mkdtempSync(path.join(root, 'test', '.work', 'modules-'));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));
  const model: Model = { constants: [1, 2, 3], bodies: new Map(), order: [[0, 1, 2], [0, 1, 2], [0, 1, 2]], comments: 0, unused: 0 };
  for (let j = 0; j < MODULES; j++) for (let i = 0; i < 3; i++) model.bodies.set(`${j}.${i}`, rnd(5));
  const tasks = Array.from({ length: 6 }, (_, k) => ({ name: `T${k}`, j: rnd(MODULES), i: rnd(3), dependency: k > 0 && rnd(2) === 0 ? `T${rnd(k)}` : undefined }));
  const writeModules = () => {
    for (let j = 0; j < MODULES; j++) fs.writeFileSync(path.join(folder, `m${j}.ts`), moduleText(model, j));
  };
  writeModules();
  const imports = Array.from({ length: MODULES }, (_, j) => `import * as m${j} from './m${j}.js';`).join('\n');
  const definitions = tasks.map(({ name, j, i, dependency }) =>
    `new Task('${name}'${dependency ? `, { dependencies: ['${dependency}'] }` : ''}).process('run', (t) => m${j}.h${j}_${i}(1) % 3${dependency ? ` + t.result<number>('${dependency}')` : ''})`);
  fs.writeFileSync(path.join(folder, 'pipeline.ts'), `import { Pipeline, Task, PipelineRunError } from '${library}';\n${imports}\n` +
    `const pipeline = new Pipeline('Modules').add(\n  ${definitions.join(',\n  ')},\n);\n` +
    `const plan = await pipeline.plan();\nconst report = await pipeline.execute({ progress: false });\n` +
    `console.log(JSON.stringify({ plan: plan.tasks, run: report.tasks.map(({ name, status, reason }) => ({ name, status, reason })) }));\nawait pipeline.close();\n`);
  const run = () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'pipeline.ts'], { cwd: folder, encoding: 'utf8', env: { ...process.env, LITTLEPIPES_DIR: path.join(folder, '.littlepipes') } });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
      plan: { name: string; action: string; reasons: { kind: string }[] }[];
      run: { name: string; status: string; reason: string }[];
    };
  };
  run();

  for (let round = 1; round <= ROUNDS; round++) {
    const j = rnd(MODULES);
    const i = rnd(3);
    let edited: string | undefined;
    let what: string;
    switch (rnd(5)) {
      case 0:
        model.constants[j] = model.constants[j]! + 1 + rnd(3);
        edited = `C${j}`;
        what = `constant C${j}`;
        break;
      case 1:
        model.bodies.set(`${j}.${i}`, model.bodies.get(`${j}.${i}`)! + 1);
        edited = `h${j}_${i}`;
        what = `body of h${j}_${i}`;
        break;
      case 2:
        model.comments++;
        what = 'a comment';
        break;
      case 3:
        model.order[j] = [...model.order[j]!.slice(1), model.order[j]![0]!];
        what = `the order of m${j}'s helpers`;
        break;
      default:
        model.unused++;
        what = 'an unused export';
    }
    writeModules();
    const { plan, run: outcome } = run();
    const where = `MODULE_SEED=${seed}, round ${round}, edited ${what}\nplan: ${JSON.stringify(plan)}\nrun: ${JSON.stringify(outcome)}`;
    const reaches = new Set(tasks.filter((task) => edited !== undefined && reach(task.j, task.i).includes(edited)).map((task) => task.name));
    for (const task of tasks) {
      const planned = plan.find((item) => item.name === task.name)!;
      const status = outcome.find((item) => item.name === task.name)!;
      const codeChanged = status.status === 'ran' && status.reason.startsWith('code changed');
      assert.equal(codeChanged, reaches.has(task.name), `${task.name} ${reaches.has(task.name) ? 'reaches' : 'does not reach'} the edit\n${where}`);
      if (planned.action === 'run') assert.equal(status.status, 'ran', `${task.name} planned to run\n${where}`);
      if (planned.action === 'cached') assert.equal(status.status, 'cached', `${task.name} planned cached\n${where}`);
      if (planned.action === 'wait') assert.ok(['ran', 'cached'].includes(status.status), `${task.name} planned to wait\n${where}`);
      if (planned.action === 'run') assert.equal(planned.reasons[0]!.kind === 'code changed', codeChanged, `${task.name}: the plan's reason differs\n${where}`);
    }
  }
}

test(`plan() agrees with execute() over ${ROUNDS} rounds of random edits to helper modules, for several seeds`, { timeout: 240_000 }, () => {
  fs.mkdirSync(path.join(root, 'test', '.work'), { recursive: true });
  const seeds = process.env.MODULE_SEED ? [Number(process.env.MODULE_SEED)] : [1, 2, 3];
  for (const seed of seeds) scenario(seed);
});
