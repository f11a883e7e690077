import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { type ExecuteOptions, Pipeline, PipelineRunError, type RunReport, Task, type TaskPlan, expire } from '../lib/index.js';
import { describeReason, unusableCachedResult } from '../lib/plan/freshness.js';
import { temporaryFolder } from './helpers.js';

/**
 * The plan must say what execute() then does. Over generated scenarios (a random DAG whose
 * results come from a mutable table, run once, then edited at random and run again with random
 * options), every task's planned action is checked against its status in the run that follows.
 * Set PLAN_SEED to replay one scenario.
 */

const SCENARIOS = 200;
const ROUNDS = 3;

/** mulberry32: a small seeded PRNG, so a failing scenario replays from its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    chance: (p: number) => next() < p,
    int: (below: number) => Math.floor(next() * below),
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)]!;
    },
    subset<T>(items: readonly T[], p: number): T[] {
      return items.filter(() => next() < p);
    },
  };
}
type Random = ReturnType<typeof random>;

type Expiry = 'never' | 'onComplete' | 'session' | 'hour' | 'past';
const PAST = new Date('2020-01-01T00:00:00Z');

/** What the generated tasks compute from, and what they saw when they ran. */
interface World {
  /** Each task's own contribution to its result: the mutable table. */
  values: Map<string, number>;
  /** Tasks that throw when they run. */
  fails: Set<string>;
  /** The dependency results each task read in the current run, whether it then failed or not. */
  read: Map<string, Record<string, number>>;
  /** The dependency results each task read in its last successful run: what its cache entry was computed from. */
  lastSucceeded: Map<string, Record<string, number>>;
  /** Each task's last computed result: the one its cache entry holds. */
  results: Map<string, number>;
}

interface TaskSpec {
  dependencies: string[];
  version: number;
  expiry: Expiry;
  /** A param its result depends on, when it has one. */
  level?: number;
  /** An input file its result depends on, when it has one. */
  input?: string;
}

function compute(world: World, name: string, dependencies: readonly string[], t: { result<T>(name: string): T; params: Record<string, unknown>; inputs: readonly string[] }): number {
  const read: Record<string, number> = {};
  let sum = world.values.get(name)! + ((t.params.level as number | undefined) ?? 0);
  for (const input of t.inputs) sum += Number(fs.readFileSync(input, 'utf8'));
  for (const dependency of dependencies) {
    read[dependency] = t.result<number>(dependency);
    sum += read[dependency];
  }
  world.read.set(name, read);
  if (world.fails.has(name)) throw new Error(`${name} was told to fail`);
  // Few distinct values, so upstream re-runs often land on the same result (early cutoff).
  world.results.set(name, sum % 3);
  return sum % 3;
}

/** A task whose run process has source text of its own for each version: a new version is changed code. */
function buildTask(world: World, name: string, spec: TaskSpec): Task {
  const expiry = {
    never: expire.never(),
    onComplete: expire.onComplete(),
    session: expire.session(),
    hour: expire.after({ hours: 1 }),
    past: expire.at(PAST),
  }[spec.expiry];
  const dependencies = [...spec.dependencies];
  const run = new Function('compute', `return (t) => compute(t, ${spec.version});`)(
    (t: Parameters<typeof compute>[3]) => compute(world, name, dependencies, t),
  ) as (t: unknown) => number;
  return new Task(name, {
    dependencies,
    expire: expiry,
    ...(spec.level === undefined ? {} : { params: { level: spec.level } }),
    ...(spec.input === undefined ? {} : { inputs: [spec.input] }),
  }).process('run', run);
}

function randomExpiry(rng: Random): Expiry {
  return rng.pick<Expiry>(['never', 'never', 'never', 'never', 'never', 'onComplete', 'session', 'hour', 'past']);
}

function randomDependencies(rng: Random, index: number, names: readonly string[]): string[] {
  return rng.subset(names.slice(0, index), index > 4 ? 0.25 : 0.4).slice(0, 3);
}

function randomOptions(rng: Random, names: readonly string[]): ExecuteOptions {
  const options: ExecuteOptions = { progress: false };
  const force = rng.int(10);
  if (force === 0) options.force = true;
  else if (force < 4) options.force = rng.subset(names, 0.25);
  if (rng.chance(0.25)) options.only = rng.subset(names, 0.3);
  if (rng.chance(0.3)) options.skip = rng.subset(names, 0.25);
  return options;
}

async function execute(pipeline: Pipeline, options: ExecuteOptions): Promise<RunReport> {
  try {
    return await pipeline.execute(options);
  } catch (error) {
    if (error instanceof PipelineRunError) return error.report;
    throw error;
  }
}

/** Which planned action ended in which status, over all scenarios: the generator must reach every case. */
const seen = new Set<string>();
/** Which reasons the plans gave, over all scenarios. */
const reasons = new Set<string>();

async function scenario(folder: string, seed: number): Promise<void> {
  const rng = random(seed);
  const world: World = { values: new Map(), fails: new Set(), read: new Map(), lastSucceeded: new Map(), results: new Map() };
  const names = Array.from({ length: 3 + rng.int(10) }, (_, index) => `T${index}`);
  const specs = new Map<string, TaskSpec>();
  const pipeline = new Pipeline(`S${seed}`, { cacheDir: folder, logLevel: 'silent' });
  names.forEach((name, index) => {
    world.values.set(name, rng.int(3));
    if (rng.chance(0.1)) world.fails.add(name);
    const spec: TaskSpec = { dependencies: randomDependencies(rng, index, names), version: 0, expiry: randomExpiry(rng) };
    if (rng.chance(0.3)) spec.level = rng.int(3);
    if (rng.chance(0.3)) {
      spec.input = path.join(folder, `S${seed}-${name}.txt`);
      fs.writeFileSync(spec.input, String(rng.int(3)));
    }
    specs.set(name, spec);
    pipeline.add(buildTask(world, name, specs.get(name)!));
  });

  const runOnce = async (options: ExecuteOptions) => {
    world.read.clear();
    const report = await execute(pipeline, options);
    for (const task of report.tasks) if (task.status === 'ran') world.lastSucceeded.set(task.name, world.read.get(task.name)!);
    return report;
  };

  try {
    await runOnce({ progress: false });
    for (let round = 1; round <= ROUNDS; round++) {
      for (let edits = rng.int(4); edits > 0; edits--) {
        const index = rng.int(names.length);
        const name = names[index]!;
        const spec = specs.get(name)!;
        switch (rng.int(8)) {
          case 0:
            spec.version++;
            break;
          case 1:
            world.values.set(name, rng.int(3));
            break;
          case 2:
            spec.expiry = 'past';
            break;
          case 3:
            world.fails.add(name);
            if (rng.chance(0.5)) spec.version++;
            break;
          case 4:
            world.fails.delete(name);
            break;
          case 5:
            spec.dependencies = randomDependencies(rng, index, names);
            break;
          case 6:
            // A param, sometimes to the value it had.
            spec.level = rng.int(3);
            break;
          case 7:
            // An input file's contents, sometimes to what they were.
            if (spec.input) fs.writeFileSync(spec.input, String(rng.int(3)));
            break;
        }
        pipeline.replace(buildTask(world, name, spec));
      }
      const options = randomOptions(rng, names);
      const lastSucceeded = new Map(world.lastSucceeded);
      const plan = await pipeline.plan(options);
      const verified = await pipeline.verify(options);
      assert.deepEqual(JSON.parse(JSON.stringify(plan)), { pipeline: pipeline.name, tasks: plan.tasks });
      const report = await runOnce(options);

      const where = `PLAN_SEED=${seed}, round ${round}, options ${JSON.stringify(options)}\n` +
        `plan: ${plan.tasks.map((task) => `${task.name}:${task.action}${task.waitsOn ? `<${task.waitsOn}` : ''}`).join(' ')}\n` +
        `run:  ${report.tasks.map((task) => `${task.name}:${task.status}`).join(' ')}`;
      const dependencies = (name: string) => specs.get(name)!.dependencies;
      const selected = options.only ? closure(options.only, dependencies) : new Set(names);
      for (const planned of plan.tasks) {
        const outcome = report.task(planned.name)!;
        seen.add(`${planned.action}${planned.waitsOn && planned.action === 'skipped' ? ' (undecided)' : ''} -> ${outcome.status}`);
        for (const reason of planned.reasons) reasons.add(reason.kind);
        checkTask(planned, outcome, {
          where: `${where}\n${planned.name}: planned ${JSON.stringify(planned)}, then ${outcome.status} (${outcome.reason})`,
          plan: (name) => plan.task(name)!,
          outcome: (name) => report.task(name)!,
          dependencies,
          selected: selected.has(planned.name),
          failing: world.fails.has(planned.name),
          readNow: world.read.get(planned.name),
          readBefore: lastSucceeded.get(planned.name),
          results: world.results,
        });
      }
      if (verified) {
        assert.ok(report.tasks.every((task) => task.status === 'cached' || task.status === 'skipped'), `verify() was true, yet the run did work\n${where}`);
      }
    }
  } finally {
    await pipeline.close();
  }
}

interface Check {
  where: string;
  plan(name: string): TaskPlan;
  outcome(name: string): { status: string; reason: string };
  dependencies(name: string): readonly string[];
  selected: boolean;
  failing: boolean;
  readNow: Record<string, number> | undefined;
  readBefore: Record<string, number> | undefined;
  results: ReadonlyMap<string, number>;
}

function checkTask(planned: TaskPlan, outcome: { status: string; reason: string }, check: Check): void {
  const { where } = check;
  const fail = (what: string) => assert.fail(`${what}\n${where}`);
  if (outcome.status === 'failed' && !check.failing) fail('a task failed that was not told to');
  if (outcome.status === 'blocked' && planned.action !== 'blocked') checkBlockedAtRunTime(planned, outcome, check);

  switch (planned.action) {
    case 'cached':
      if (outcome.status !== 'cached') fail('planned cached');
      break;
    case 'blocked':
      if (outcome.status !== 'blocked') fail('planned blocked');
      break;
    case 'run': {
      if (!['ran', 'failed', 'blocked'].includes(outcome.status)) fail('planned to run');
      const reason = planned.reasons[0]!;
      if (outcome.status === 'ran' && reason.kind !== 'upstream changed' && outcome.reason !== describeReason(reason)) fail('ran for another reason than planned');
      if (outcome.status === 'ran' && reason.kind === 'upstream changed') {
        // The runner names the first changed dependency; one decided at run time may come before the planned one.
        const named = /^upstream (.+) changed$/.exec(outcome.reason)?.[1];
        const undecided = check.dependencies(planned.name).filter((dependency) => isUndecided(check.plan(dependency)));
        if (named !== reason.task && !undecided.includes(named!)) fail('ran for another upstream than planned');
      }
      break;
    }
    case 'wait':
      if (!['ran', 'failed', 'cached', 'blocked'].includes(outcome.status)) fail('planned to wait');
      if (outcome.status === 'ran' || outcome.status === 'failed') {
        const changed = planned.waitsOn!.filter((upstream) => check.readNow![upstream] !== check.readBefore![upstream]);
        if (changed.length === 0) fail('a waiting task ran although nothing it waits on changed its result');
        if (outcome.status === 'ran' && !planned.waitsOn!.some((upstream) => outcome.reason === `upstream ${upstream} changed`)) fail('a waiting task ran for another reason than an upstream it waits on');
      }
      if (outcome.status === 'cached' && planned.waitsOn!.some((upstream) => check.results.get(upstream) !== check.readBefore![upstream])) {
        fail('a waiting task stayed cached although an upstream it waits on changed its result');
      }
      break;
    case 'skipped':
      if (!check.selected) {
        if (outcome.status !== 'skipped' || outcome.reason !== 'not selected by `only`') fail('planned not selected');
      } else if (outcome.status !== 'blocked') {
        if (outcome.status !== 'skipped') fail('planned skipped');
        const usable = outcome.reason === 'by request; its cached result is used';
        if (planned.reasons.length > 0 && usable) fail('planned a skipped task whose result cannot be used, yet it was used');
        if (planned.reasons.length > 0 && outcome.reason !== `by request; ${unusableCachedResult([planned.reasons[0]!])}`) fail('skipped for another reason than planned');
        if (planned.reasons.length === 0 && !planned.waitsOn && !usable) fail('planned a skipped task whose result is used, yet it was not');
      }
      break;
  }
}

/** Decided only at run time: the task will run, waits, or is skipped with a result usable only if its upstream keeps its result. */
function isUndecided(plan: TaskPlan): boolean {
  return plan.action === 'run' || plan.action === 'wait' || (plan.action === 'skipped' && plan.waitsOn !== undefined);
}

/**
 * A task the plan did not block may be blocked at run time only by what the plan cannot know: an
 * upstream that fails, or a skipped upstream whose result turns out unusable once its own
 * upstream has run. (Those upstream tasks are checked in their turn.)
 */
function checkBlockedAtRunTime(planned: TaskPlan, outcome: { reason: string }, check: Check): void {
  const match = /^upstream (.+?) (failed|was skipped and has no fresh cached result|is blocked)$/.exec(outcome.reason);
  assert.ok(match, `blocked for a reason the plan does not expect\n${check.where}`);
  const [, upstream, why] = match;
  assert.ok(check.dependencies(planned.name).includes(upstream!), `blocked by a task it does not depend on\n${check.where}`);
  assert.ok(isUndecided(check.plan(upstream!)), `blocked by ${upstream}, which the plan had decided (${check.plan(upstream!).action})\n${check.where}`);
  const status = { failed: 'failed', 'is blocked': 'blocked' }[why!] ?? 'skipped';
  assert.equal(check.outcome(upstream!).status, status, `blocked by ${upstream}, which was not ${status}\n${check.where}`);
}

function closure(roots: readonly string[], dependencies: (name: string) => readonly string[]): Set<string> {
  const names = new Set<string>();
  const visit = (name: string) => {
    if (names.has(name)) return;
    names.add(name);
    for (const dependency of dependencies(name)) visit(dependency);
  };
  roots.forEach(visit);
  return names;
}

test(`plan() says what execute() then does, over ${SCENARIOS} generated scenarios`, async () => {
  const folder = temporaryFolder();
  const seeds = process.env.PLAN_SEED ? [Number(process.env.PLAN_SEED)] : Array.from({ length: SCENARIOS }, (_, index) => index + 1);
  for (const seed of seeds) await scenario(folder, seed);
  if (process.env.PLAN_SEED) return;
  // Guards against a generator that stops reaching the interesting cases.
  for (const pair of ['run -> ran', 'run -> failed', 'run -> blocked', 'wait -> ran', 'wait -> cached', 'wait -> blocked', 'cached -> cached',
    'blocked -> blocked', 'skipped -> skipped', 'skipped (undecided) -> skipped']) {
    assert.ok(seen.has(pair), `no scenario planned and ran "${pair}"; seen: ${[...seen].sort().join(', ')}`);
  }
  for (const kind of ['code changed', 'params changed', 'input changed', 'upstream changed', 'expired', 'forced', 'failed last run', 'dependencies changed']) {
    assert.ok(reasons.has(kind), `no scenario planned a run for "${kind}"; seen: ${[...reasons].sort().join(', ')}`);
  }
});
