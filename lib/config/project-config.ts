import fs from 'node:fs';
import path from 'node:path';
import type { Document } from 'yaml';
import { parseStoreUrl } from '../cache/backends/shared-store.js';
import { yamlModule } from '../deferred-packages.js';
import { ConfigError } from '../errors.js';
import { paramTypeProblem, plainParams, type JsonValue } from '../fingerprint/params.js';
import { suggest } from '../names.js';
import { EXECUTORS, type ExecutorName } from '../run/executors/executor.js';
import { isRedisUrl } from '../run/executors/redis-connection.js';
import type { Profile } from '../plan/selection.js';
import type { AnyTask } from '../task.js';

/** The project's configuration file, at the project root (the folder of the nearest package.json). */
export const CONFIG_FILE = 'littlepipes.yaml';

/** A profile as written, before its `extends` are applied; `at` finds a key's line for messages. */
interface WrittenProfile {
  extends: string[];
  stages?: Record<string, string[]>;
  optional?: Record<string, boolean>;
  params?: Record<string, Record<string, JsonValue>>;
  startFrom?: string;
  stopAfter?: string;
}

/** littlepipes.yaml, read and checked for its shape (names are checked against a pipeline when a profile is used). */
export interface ProjectConfig {
  file: string;
  profiles: ReadonlyMap<string, WrittenProfile>;
  settings: { cacheDir?: string; concurrency?: number; store?: string; executor?: ExecutorName; connection?: string };
  /** `file:line` of a key path such as ['profiles', 'sample', 'stages'], for messages. */
  where(keys: readonly (string | number)[]): string;
}

const TOP_KEYS = ['profiles', 'settings'];
const SETTINGS_KEYS = ['cacheDir', 'concurrency', 'store', 'executor', 'connection'];
const PROFILE_KEYS = ['extends', 'stages', 'optional', 'params', 'startFrom', 'stopAfter'];

/** The folder of the nearest package.json at or above `from`, else `from`. */
export function projectRoot(from: string): string {
  for (let folder = path.resolve(from); ; folder = path.dirname(folder)) {
    if (fs.existsSync(path.join(folder, 'package.json'))) return folder;
    if (path.dirname(folder) === folder) return path.resolve(from);
  }
}

/** Reads littlepipes.yaml at the project root above `from`; undefined when there is none. */
export function loadProjectConfig(from = process.cwd()): ProjectConfig | undefined {
  const file = path.join(projectRoot(from), CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseProjectConfig(file, text);
}

/** The configuration a pipeline uses: the file its `config` option names (which must be there), else littlepipes.yaml at the project root, if any. */
export function readProjectConfig(file: string | undefined): ProjectConfig | undefined {
  if (file === undefined) return loadProjectConfig();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, `Cannot read the configuration ${file} (the config option): ${(error as Error).message}.`);
  }
  return parseProjectConfig(path.resolve(file), text);
}

/** The name in the nearest package.json above the working directory, else the directory's own name. */
export function projectName(): string {
  for (let folder = process.cwd(); ; folder = path.dirname(folder)) {
    try {
      const name = (JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')) as { name?: unknown }).name;
      if (typeof name === 'string' && name !== '') return name;
    } catch {
      // No package.json here, or not one with a name: look further up.
    }
    if (path.dirname(folder) === folder) return path.basename(process.cwd());
  }
}

/** Parses and checks the text of a littlepipes.yaml; every error names the file, the line and the key. */
export function parseProjectConfig(file: string, text: string): ProjectConfig {
  const { LineCounter, parseDocument } = yamlModule();
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  const shown = path.relative(process.cwd(), file) || file;
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new ConfigError(file, `${shown}:${lineOf(first.pos[0])}: this is not valid YAML: ${first.message.split('\n')[0]}. Fix the file and run again.`);
  }
  const where = (keys: readonly (string | number)[]) => `${shown}:${lineOf(nodeAt(document, keys)?.range?.[0])}`;
  const fail = (keys: readonly (string | number)[], message: string): never => {
    throw new ConfigError(file, `${where(keys)}: ${keys.join('.')}: ${message}`);
  };
  const root: unknown = document.toJS() ?? {};
  if (!isRecord(root)) fail([], 'the file must be a mapping with `profiles` and `settings`.');
  const top = root as Record<string, unknown>;
  checkKeys(top, TOP_KEYS, [], fail);

  const settings: ProjectConfig['settings'] = {};
  if (top.settings !== undefined) {
    if (!isRecord(top.settings)) fail(['settings'], `must be a mapping (${SETTINGS_KEYS.join(', ')}).`);
    const written = top.settings as Record<string, unknown>;
    checkKeys(written, SETTINGS_KEYS, ['settings'], fail);
    if (written.cacheDir !== undefined) {
      if (typeof written.cacheDir !== 'string' || written.cacheDir === '') fail(['settings', 'cacheDir'], 'must be a folder path.');
      settings.cacheDir = path.resolve(path.dirname(file), written.cacheDir as string);
    }
    if (written.concurrency !== undefined) {
      if (!Number.isInteger(written.concurrency) || (written.concurrency as number) < 1) fail(['settings', 'concurrency'], `must be a whole number from 1 up, got ${JSON.stringify(written.concurrency)}.`);
      settings.concurrency = written.concurrency as number;
    }
    if (written.store !== undefined) {
      if (typeof written.store !== 'string') fail(['settings', 'store'], `must be a store URL (redis://host:6379, postgresql://host/db), got ${JSON.stringify(written.store)}.`);
      try {
        parseStoreUrl(written.store as string, 'settings.store');
      } catch (error) {
        fail(['settings', 'store'], (error as Error).message.replace(/^settings\.store: /, ''));
      }
      settings.store = written.store as string;
    }
    if (written.executor !== undefined) {
      if (!EXECUTORS.includes(written.executor as ExecutorName)) {
        const guess = typeof written.executor === 'string' ? suggest(written.executor, EXECUTORS) : undefined;
        fail(['settings', 'executor'], `must be one of ${EXECUTORS.join(', ')}, got ${JSON.stringify(written.executor)}.${guess ? ` Did you mean "${guess}"?` : ''}`);
      }
      settings.executor = written.executor as ExecutorName;
    }
    if (written.connection !== undefined) {
      if (!isRedisUrl(written.connection)) fail(['settings', 'connection'], `must be the Redis URL of the bullmq executor's queue, such as redis://queue.internal:6379, got ${JSON.stringify(written.connection)}.`);
      settings.connection = written.connection as string;
    }
  }

  const profiles = new Map<string, WrittenProfile>();
  if (top.profiles !== undefined) {
    if (!isRecord(top.profiles)) fail(['profiles'], 'must be a mapping of profile names to profiles.');
    for (const [name, value] of Object.entries(top.profiles as Record<string, unknown>)) {
      const at = ['profiles', name];
      if (value === null) {
        profiles.set(name, { extends: [] });
        continue;
      }
      if (!isRecord(value)) fail(at, 'a profile must be a mapping (extends, stages, optional, params, startFrom, stopAfter).');
      const written = value as Record<string, unknown>;
      checkKeys(written, PROFILE_KEYS, at, fail);
      const profile: WrittenProfile = { extends: [] };
      if (written.extends !== undefined) {
        const list = typeof written.extends === 'string' ? [written.extends] : written.extends;
        if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) fail([...at, 'extends'], 'must be a profile name or a list of them.');
        profile.extends = list as string[];
      }
      if (written.stages !== undefined) {
        if (!isRecord(written.stages)) fail([...at, 'stages'], 'must map each stage to the list of its tasks that run.');
        profile.stages = {};
        for (const [stage, tasks] of Object.entries(written.stages as Record<string, unknown>)) {
          const list = typeof tasks === 'string' ? [tasks] : tasks;
          if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) fail([...at, 'stages', stage], 'must be a task name or a list of them.');
          profile.stages[stage] = list as string[];
        }
      }
      if (written.optional !== undefined) {
        if (!isRecord(written.optional)) fail([...at, 'optional'], 'must map each optional group to true (on) or false (off).');
        profile.optional = {};
        for (const [group, on] of Object.entries(written.optional as Record<string, unknown>)) {
          if (typeof on !== 'boolean') fail([...at, 'optional', group], `must be true or false, got ${JSON.stringify(on)}.`);
          profile.optional[group] = on as boolean;
        }
      }
      if (written.params !== undefined) {
        if (!isRecord(written.params)) fail([...at, 'params'], 'must map task names to their params.');
        profile.params = {};
        for (const [task, params] of Object.entries(written.params as Record<string, unknown>)) {
          if (!isRecord(params)) fail([...at, 'params', task], 'must be a mapping of param names to values.');
          try {
            profile.params[task] = plainParams(task, params as Record<string, unknown>) as Record<string, JsonValue>;
          } catch (error) {
            fail([...at, 'params', task], (error as Error).message);
          }
        }
      }
      for (const key of ['startFrom', 'stopAfter'] as const) {
        if (written[key] === undefined) continue;
        if (typeof written[key] !== 'string') fail([...at, key], 'must be a task name.');
        profile[key] = written[key] as string;
      }
      profiles.set(name, profile);
    }
  }
  return { file, profiles, settings, where };
}

/**
 * A profile with its `extends` applied (ancestors first, a shared ancestor once) and every name
 * checked against the pipeline's tasks, stages and groups, with a suggestion for a typo.
 */
export function resolveProfile(config: ProjectConfig, name: string, tasks: ReadonlyMap<string, AnyTask>): Profile {
  const fail = (keys: readonly (string | number)[], message: string): never => {
    throw new ConfigError(config.file, `${config.where(keys)}: ${keys.join('.')}: ${message}`);
  };
  if (!config.profiles.has(name)) {
    const guess = suggest(name, config.profiles.keys());
    throw new ConfigError(config.file, `${config.where(['profiles'])}: there is no profile "${name}"${guess ? `. Did you mean "${guess}"?` : `; the profiles are ${[...config.profiles.keys()].join(', ') || 'none'}.`}`);
  }
  // Ancestors first, each once; a cycle is reported with its path.
  const order: string[] = [];
  const visit = (profile: string, path: string[]) => {
    if (path.includes(profile)) fail(['profiles', path[path.length - 1]!, 'extends'], `profiles extend each other in a cycle: ${[...path.slice(path.indexOf(profile)), profile].join(' -> ')}.`);
    if (order.includes(profile)) return;
    const written = config.profiles.get(profile);
    if (!written) {
      const guess = suggest(profile, config.profiles.keys());
      fail(['profiles', path[path.length - 1]!, 'extends'], `there is no profile "${profile}" to extend${guess ? `. Did you mean "${guess}"?` : '.'}`);
    }
    for (const parent of written!.extends) visit(parent, [...path, profile]);
    order.push(profile);
  };
  visit(name, []);

  const stagesOf = new Map<string, string[]>();
  const groups = new Set<string>();
  for (const task of tasks.values()) {
    if (task.stage !== undefined) stagesOf.set(task.stage, [...(stagesOf.get(task.stage) ?? []), task.name]);
    if (task.optional !== undefined) groups.add(task.optional);
  }
  const taskName = (keys: (string | number)[], value: string, among: Iterable<string>, what: string) => {
    const candidates = [...among];
    if (candidates.includes(value)) return;
    const guess = suggest(value, candidates);
    fail(keys, `${what} "${value}" is not in the pipeline${guess ? `. Did you mean "${guess}"?` : '.'}`);
  };

  const resolved: Profile & { stages: Record<string, string[]>; optional: Record<string, boolean>; params: Record<string, Record<string, JsonValue>> } = { name, stages: {}, optional: {}, params: {} };
  for (const profile of order) {
    const written = config.profiles.get(profile)!;
    const at = ['profiles', profile];
    for (const [stage, list] of Object.entries(written.stages ?? {})) {
      if (!stagesOf.has(stage)) taskName([...at, 'stages', stage], stage, stagesOf.keys(), 'stage');
      for (const task of list) {
        if (!stagesOf.get(stage)!.includes(task)) {
          if (tasks.has(task)) fail([...at, 'stages', stage], `task "${task}" is not a branch of stage ${stage} (its stage is ${tasks.get(task)!.stage ?? 'none'}).`);
          taskName([...at, 'stages', stage], task, stagesOf.get(stage)!, 'task');
        }
      }
      resolved.stages[stage] = list;
    }
    for (const [group, on] of Object.entries(written.optional ?? {})) {
      if (!groups.has(group)) taskName([...at, 'optional', group], group, groups, 'optional group');
      resolved.optional[group] = on;
    }
    for (const [task, params] of Object.entries(written.params ?? {})) {
      taskName([...at, 'params', task], task, tasks.keys(), 'task');
      checkParamTypes(tasks.get(task)!, params, [...at, 'params', task], fail);
      resolved.params[task] = { ...resolved.params[task], ...params };
    }
    for (const key of ['startFrom', 'stopAfter'] as const) {
      if (written[key] === undefined) continue;
      taskName([...at, key], written[key]!, tasks.keys(), 'task');
      resolved[key] = written[key];
    }
  }
  return resolved;
}

/**
 * A profile's params for a task, against the task's own: each param it declares keeps its JSON
 * type (the type its processes are compiled against); a param it does not declare may be added.
 */
function checkParamTypes(task: AnyTask, params: Record<string, JsonValue>, at: (string | number)[], fail: (keys: (string | number)[], message: string) => never): void {
  for (const [key, value] of Object.entries(params)) {
    if (!Object.hasOwn(task.params, key)) continue;
    const declared = task.params[key]!;
    const problem = paramTypeProblem(declared, value);
    if (!problem) continue;
    const shown = JSON.stringify(declared);
    const declaration = `task ${task.name} declares ${shown.length <= 60 ? `${key}: ${shown}` : key}`;
    fail([...at, key, ...problem.path], problem.given === undefined
      ? `is missing: it must be ${problem.expected}, as ${declaration}.`
      : `must be ${problem.expected}, as ${declaration}, got ${JSON.stringify(problem.given)}.`);
  }
}

function checkKeys(record: Record<string, unknown>, known: readonly string[], at: (string | number)[], fail: (keys: (string | number)[], message: string) => never): void {
  for (const key of Object.keys(record)) {
    if (known.includes(key)) continue;
    const guess = suggest(key, known);
    fail([...at, key], `unknown key${guess ? `. Did you mean "${guess}"?` : `; the keys here are ${known.join(', ')}.`}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The YAML node at a key path, for its line; the nearest existing parent when the path runs out. */
function nodeAt(document: Document, keys: readonly (string | number)[]): { range?: [number, number, number] | null } | undefined {
  const { isMap, isScalar, isSeq } = yamlModule();
  let node: unknown = document.contents;
  let found = node as { range?: [number, number, number] | null } | undefined;
  for (const key of keys) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (!pair) break;
      found = (pair.key as { range?: [number, number, number] }) ?? found;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      found = (node as { range?: [number, number, number] }) ?? found;
    } else break;
  }
  return found;
}
