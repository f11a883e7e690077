import type { Command } from 'commander';
import { commandLine, littlepipesCode } from '../errors.js';
import { failureSentence } from '../words.js';

/** What an error that reaches the command line carries, whichever copy of littlepipes threw it. */
interface ErrorFields {
  code?: string;
  message: string;
  task?: unknown;
  where?: unknown;
  suggestion?: unknown;
  option?: unknown;
  report?: { failed?: readonly { name: string; reason?: string; error?: { message: string } }[] };
}

/**
 * An error's message in the command line's words: the API names its calls and options
 * (`execute({ skip }): ...`, `getResult(): profile ...`, `pipeline.clear(['X'])`, `error.report`);
 * here the same message names the command and its flag (`run --skip: ...`, `show: --profile ...`,
 * `littlepipes clear X`, `littlepipes logs X`). Errors littlepipes did not throw are left as they are.
 */
export function inCommandLineWords(error: unknown, command: Command | undefined): string {
  if (!(error instanceof Error)) return String(error);
  const code = littlepipesCode(error);
  if (code === undefined) return error.message;
  const fields = error as ErrorFields;
  const name = command?.parent ? command.name() : undefined;
  const flags = new Set((command?.options ?? []).map((option) => option.long?.replace(/^--(no-)?/, '')).filter((flag): flag is string => Boolean(flag)));
  const place = (flag: string | undefined) => (name ? `${name}${flag ? ` --${flag}` : ''}: ` : '');

  if (code === 'ERR_UNKNOWN_TASK' && typeof fields.task === 'string') {
    return `${place(flagOf(String(fields.where), flags))}there is no task named "${fields.task}". ` +
      (typeof fields.suggestion === 'string' ? `Did you mean "${fields.suggestion}"?` : '`littlepipes plan --all` lists the tasks.');
  }
  if (code === 'ERR_RUN_FAILED' && fields.report?.failed) return runFailure(fields.report.failed);

  let message = error.message;
  // `execute(): `, `getResult(): `, `littlepipes worker: `: the command says where instead.
  const call = /^(?:littlepipes \w+|(?:pipeline\.)?\w+\((?:\{ \w+ \})?\)): /.exec(message);
  if (call) message = `${place(flagOf(call[0], flags))}${message.slice(call[0].length)}`;
  if (code === 'ERR_INVALID_OPTION' && typeof fields.option === 'string' && flags.has(fields.option) && !message.includes(`--${fields.option}`)) {
    const option = fields.option;
    const start = call ? message.indexOf(': ') + 2 : 0;
    message = message.slice(0, start) + message.slice(start).replace(new RegExp(`(?<![\\w.'-])${option}(?![\\w'-])`), `--${option}`);
  }
  if (code === 'ERR_NO_FRESH_RESULT' && typeof fields.task === 'string') {
    message = message.replace(/Run pipeline\.execute\(\) to compute it\.$/, `Run \`${commandLine(['littlepipes', 'run', fields.task])}\` to compute it.`);
  }
  return message
    .replace(/\b(?:pipeline\.)?execute\(\{ ([^}]*) \}\)/g, (whole, body: string) => {
      const words = flagsOf(body);
      return words ? `\`${commandLine(['littlepipes', 'run', ...words])}\`` : whole;
    })
    .replace(/\bpipeline\.clear\(\[([^\]]*)\]\)/g, (whole, list: string) => {
      const names = [...list.matchAll(/'([^']*)'/g)].map((match) => match[1]!);
      return names.length > 0 ? `\`${commandLine(['littlepipes', 'clear', ...names])}\`` : whole;
    });
}

/**
 * The line for a run in which tasks failed: which ones, why the first did, and the command that
 * shows its log (the report above has the rest; in the API the message points to error.report).
 */
function runFailure(failed: readonly { name: string; reason?: string; error?: { message: string } }[]): string {
  const [first] = failed;
  return `${failed.length} task${failed.length === 1 ? '' : 's'} failed: ${failed.map((task) => task.name).join(', ')}.` +
    (first ? ` ${failureSentence(first.name, first.error?.message ?? first.reason ?? 'it failed')} \`${commandLine(['littlepipes', 'logs', first.name])}\` shows its log, with the stack.` : '');
}

/**
 * The flag an API call's option stands for on this command: `execute({ skip })` is `--skip`,
 * `pipeline.explain()` is `plan --explain`. `only` is no flag of its own: it is the tasks named.
 */
function flagOf(where: string, flags: ReadonlySet<string>): string | undefined {
  const option = /\(\{ (\w+) \}\)/.exec(where)?.[1] ?? (/\bexplain\(\)/.test(where) ? 'explain' : undefined);
  return option !== undefined && option !== 'only' && flags.has(option) ? option : undefined;
}

/** `executor: 'bullmq', connection: 'redis://...'` as `--executor bullmq --connection redis://...`; undefined unless every option is a plain word. */
function flagsOf(body: string): string[] | undefined {
  const words: string[] = [];
  for (const part of body.split(/,\s*/)) {
    const pair = /^(\w+): (?:'([^']*)'|(\d+|true))$/.exec(part.trim());
    if (!pair) return undefined;
    words.push(`--${pair[1]}`, ...(pair[3] === 'true' ? [] : [pair[2] ?? pair[3]!]));
  }
  return words;
}
