import { InvalidOptionError } from '../errors.js';
import { describeValue, nameProblem } from '../names.js';

/**
 * A gate among a task's `dependencies` or `requires`: satisfied when at least one of the named
 * tasks is in the run. It pulls none of them in; the task depends on those present, and when
 * none is, the task is skipped (and so is what needs it), with the reason in the report.
 */
export class AnyOf {
  readonly tasks: readonly string[];

  constructor(tasks: readonly string[]) {
    this.tasks = Object.freeze([...new Set(tasks)]);
  }
}

/**
 * A gate that is satisfied when at least one of these tasks is in the run (for alternative
 * branches, such as a full load and a sample load, chosen by a profile's stage).
 *
 * @example
 * new Task('Clean', { dependencies: [anyOf('LoadFull', 'LoadSample')] })
 *   .process('run', (t) => t.result<Row[]>(t.has('LoadFull') ? 'LoadFull' : 'LoadSample'));
 */
export function anyOf(...tasks: string[]): AnyOf {
  if (tasks.length === 0) throw new InvalidOptionError('anyOf', 'anyOf() needs at least one task name.');
  for (const task of tasks) {
    const problem = nameProblem(task);
    if (problem) throw new InvalidOptionError('anyOf', `anyOf(): ${problem}.`);
  }
  return new AnyOf(tasks);
}

/** A gate of a task, as the task keeps it: which option it came from decides whether results are passed. */
export interface Gate {
  anyOf: readonly string[];
  /** True for a gate among `dependencies` (the task reads the present members' results), false among `requires`. */
  passesResults: boolean;
}

/** Splits a `dependencies` or `requires` list into plain task names and anyOf gates, checking each item. */
export function splitDependencyList(task: string, option: 'dependencies' | 'requires', value: unknown): { names: string[]; gates: Gate[] } {
  if (value === undefined) return { names: [], gates: [] };
  if (!Array.isArray(value)) {
    throw new InvalidOptionError(option, `Task "${task}": \`${option}\` must be an array of task names (or anyOf(...) gates), got ${describeValue(value)}.`);
  }
  const names: string[] = [];
  const gates: Gate[] = [];
  value.forEach((item: unknown, index) => {
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
