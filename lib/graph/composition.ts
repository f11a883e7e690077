import { InvalidOptionError } from '../errors.js';
import { describeValue, nameProblem } from '../names.js';

/**
 * Marks a Task, so that a dependency list knows one from anything else with a `name`. A
 * registered symbol, so that a task made by another copy of littlepipes is known too.
 */
export const TASK_MARK: unique symbol = Symbol.for('littlepipes.task');

/** A Task, as a dependency list sees it: what its name is. */
export interface MarkedTask {
  readonly name: string;
  readonly [TASK_MARK]: true;
}

/** The key of AnyOf's members as given: a type, never a value. */
declare const GIVEN: unique symbol;

function isTask(item: unknown): item is MarkedTask {
  return typeof item === 'object' && item !== null && (item as Partial<MarkedTask>)[TASK_MARK] === true;
}

/**
 * A gate among a task's `dependencies` or `requires`: satisfied when at least one of the named
 * tasks is in the run. It pulls none of them in; the task depends on those present, and when
 * none is, the task is skipped (and so is what needs it), with the reason in the report.
 * `Members` is what `anyOf` was given, for the types of the members' results.
 */
export class AnyOf<Members extends readonly (string | MarkedTask)[] = readonly (string | MarkedTask)[]> {
  readonly tasks: readonly string[];
  /** The members as given, for the compiler only (never set). */
  declare readonly [GIVEN]?: Members;

  constructor(tasks: readonly string[]) {
    this.tasks = Object.freeze([...new Set(tasks)]);
  }
}

/**
 * A gate that is satisfied when at least one of these tasks is in the run (for alternative
 * branches, such as a full load and a sample load, chosen by a profile's stage). Give the tasks
 * themselves, or their names; a task given itself has its result typed in `t.result`.
 *
 * @example
 * new Task('Clean', { dependencies: [anyOf(loadFull, loadSample)] })
 *   .process('run', (t) => t.result(t.has(loadFull) ? loadFull : loadSample));
 * @example
 * new Task('Clean', { dependencies: [anyOf('LoadFull', 'LoadSample')] })
 *   .process('run', (t) => t.result<Row[]>(t.has('LoadFull') ? 'LoadFull' : 'LoadSample'));
 */
export function anyOf<const Members extends readonly (string | MarkedTask)[]>(...tasks: Members): AnyOf<Members> {
  if (tasks.length === 0) throw new InvalidOptionError('anyOf', 'anyOf() needs at least one task name.');
  const names = tasks.map((task) => (isTask(task) ? task.name : task));
  for (const name of names) {
    const problem = nameProblem(name);
    if (problem) throw new InvalidOptionError('anyOf', `anyOf(): ${problem}.`);
  }
  return new AnyOf(names);
}

/** A gate of a task, as the task keeps it: which option it came from decides whether results are passed. */
export interface Gate {
  anyOf: readonly string[];
  /** True for a gate among `dependencies` (the task reads the present members' results), false among `requires`. */
  passesResults: boolean;
}

/** Splits a `dependencies` or `requires` list into plain task names (a Task stands for its name) and anyOf gates, checking each item. */
export function splitDependencyList(task: string, option: 'dependencies' | 'requires', value: unknown): { names: string[]; gates: Gate[] } {
  if (value === undefined) return { names: [], gates: [] };
  if (!Array.isArray(value)) {
    throw new InvalidOptionError(option, `Task "${task}": \`${option}\` must be an array of task names (or anyOf(...) gates), got ${describeValue(value)}.`);
  }
  const names: string[] = [];
  const gates: Gate[] = [];
  value.forEach((given: unknown, index) => {
    const item = isTask(given) ? given.name : given;
    if (item instanceof AnyOf) {
      gates.push({ anyOf: item.tasks, passesResults: option === 'dependencies' });
      return;
    }
    if (typeof item !== 'string') {
      throw new InvalidOptionError(option, `Task "${task}": \`${option}\` must be an array of task names (or anyOf(...) gates), but item ${index} is ${describeValue(item)}.`);
    }
    const problem = nameProblem(item);
    if (problem) throw new InvalidOptionError(option, `Task "${task}": ${option === 'dependencies' ? 'dependency' : 'required task'} ${JSON.stringify(item)} cannot be a task name: ${problem}.`);
    if (!names.includes(item)) names.push(item);
  });
  return { names, gates };
}
