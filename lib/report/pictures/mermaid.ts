import type { RunRecord } from '../../run/outcome.js';
import { formatMs } from '../../words.js';
import { type GraphView, NODE_STATES, STATE_STYLES, criticalPath, hasTimes } from './view.js';

/**
 * The graph as a Mermaid flowchart, for a markdown file: one node per task, labelled with its
 * real name and coloured by state (a `classDef` per state), and an arrow from each dependency to
 * its dependents.
 *
 * @example
 * fs.writeFileSync('PIPELINE.md', '```mermaid\n' + mermaidGraph(view) + '\n```\n');
 * // flowchart LR
 * //   t_TaskOne["TaskOne"]:::fresh
 * //   t_Sum["Sum"]:::willRun
 * //   t_TaskOne --> t_Sum
 * //   classDef fresh fill:#bbf7d0,stroke:#16a34a,color:#14532d
 */
export function mermaidGraph(view: GraphView): string {
  const ids = nodeIds(view.nodes.map((node) => node.name));
  const lines = ['flowchart LR'];
  for (const node of view.nodes) lines.push(`  ${ids.get(node.name)}["${mermaidText(node.name)}"]:::${className(node.state)}`);
  for (const node of view.nodes) {
    for (const dependency of node.dependencies) {
      const from = ids.get(dependency);
      if (from) lines.push(`  ${from} --> ${ids.get(node.name)}`);
    }
  }
  for (const state of NODE_STATES) {
    const style = STATE_STYLES[state];
    lines.push(`  classDef ${className(state)} fill:${style.fill},stroke:${style.stroke},color:${style.text}${style.dashed ? ',stroke-dasharray:4 3' : ''}`);
  }
  return lines.join('\n');
}

/**
 * The run as a Mermaid gantt chart: one bar per task that ran, failed or was cancelled, from when
 * it started to when it ended, in a section per status. Given the graph, the bars on the critical
 * path are marked `crit`.
 *
 * @example
 * const [last] = await pipeline.history({ limit: 1 });
 * console.log(mermaidTimeline(last));
 * // gantt
 * //   title Example1, 2.51 s
 * //   dateFormat x
 * //   axisFormat %H:%M:%S
 * //   todayMarker off
 * //   section ran
 * //   TaskOne :done, 1714557825000, 1714557825105
 */
export function mermaidTimeline(run: RunRecord, graph?: GraphView): string {
  const started = Date.parse(run.startedAt);
  const critical = new Set(graph ? criticalPath(run, graph) : []);
  const bars = run.tasks.filter(hasTimes).sort((a, b) => a.startMs - b.startMs);
  const lines = [
    'gantt',
    `  title ${ganttText(`${run.pipeline}, ${formatMs(run.ms)}`, false)}`,
    '  dateFormat x',
    // Whole seconds cannot tell apart the tasks of a short run.
    `  axisFormat ${run.ms < 10_000 ? '%H:%M:%S.%L' : '%H:%M:%S'}`,
    '  todayMarker off',
  ];
  for (const status of ['ran', 'failed', 'cancelled'] as const) {
    const section = bars.filter((task) => task.status === status);
    if (section.length === 0) continue;
    lines.push(`  section ${status}`);
    for (const task of section) {
      const start = Math.round(started + task.startMs);
      // Mermaid draws nothing for a bar that ends where it starts.
      const end = Math.max(start + 1, Math.round(started + task.endMs));
      // Failed and cancelled tasks are told apart by their section: `crit` is kept for the critical path.
      const tags = [critical.has(task.name) && 'crit', task.status === 'ran' && 'done'].filter(Boolean);
      lines.push(`  ${ganttText(task.name)} :${[...tags, start, end].join(', ')}`);
    }
  }
  return lines.join('\n');
}

/** Mermaid class names cannot hold the space of `will run`. */
function className(state: GraphView['nodes'][number]['state']): string {
  return state.replace(/ (\w)/g, (_match, letter: string) => letter.toUpperCase());
}

/**
 * An identifier per task that Mermaid accepts (letters, digits, `_`), readable when the name is,
 * and distinct even when two names differ only in the characters it drops. The prefix keeps
 * clear of keywords such as `end`.
 */
function nodeIds(names: readonly string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of names) {
    const base = `t_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let suffix = 2; taken.has(id); suffix++) id = `${base}_${suffix}`;
    taken.add(id);
    ids.set(name, id);
  }
  return ids;
}

/**
 * Text inside a quoted flowchart label: Mermaid's entity codes for what would end the label, be
 * read as HTML or as markdown, or start an entity.
 */
function mermaidText(text: string): string {
  return text.replace(/["<>&#`\n]/g, (char) => (char === '\n' ? ' ' : `#${char.charCodeAt(0)};`));
}

/**
 * A gantt task name or title: `:` ends a name, and `#` and `;` start comments and statements in
 * older Mermaids, so they are written as entity codes. A name that begins like a gantt keyword
 * (`section`, `title`...) would be read as one, so its first letter is written as a code too;
 * a title, which follows its keyword, need not be.
 */
function ganttText(text: string, taskName = true): string {
  const escaped = text.replace(/[:#;\n]/g, (char) => (char === '\n' ? ' ' : `#${char.charCodeAt(0)};`));
  return taskName && GANTT_KEYWORD.test(escaped) ? `#${escaped.charCodeAt(0)};${escaped.slice(1)}` : escaped;
}

const GANTT_KEYWORD = /^(gantt|title|section|dateformat|axisformat|tickinterval|excludes|includes|todaymarker|inclusiveenddates|topaxis|weekday|weekend|acctitle|accdescr|click|displaymode)/i;
