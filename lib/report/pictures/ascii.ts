import { type GraphNode, type GraphView, NODE_STATES, STATE_STYLES, countStates } from './view.js';

/** Past this, names are not padded to the longest one: one very long name should not push every line right. */
const NAME_COLUMN_LIMIT = 32;
const STATE_COLUMN = Math.max(...NODE_STATES.map((state) => state.length));

/**
 * The graph for a terminal: tasks grouped by layer (the longest chain of dependencies above
 * them), one line each with its state, its dependencies and why, then a legend with counts.
 * The marker of each state differs, so it reads without colour; `color` adds ANSI colours.
 *
 * @example
 * console.log(asciiGraph(view, { color: process.stdout.isTTY }));
 * // Example1: 4 tasks
 * // layer 1
 * //   ✓ TaskOne    fresh
 * //   ► TaskThree  will run   expired: when the run completes
 * // layer 2
 * //   ◇ Sum        waits      ← TaskOne, TaskThree  waits on TaskThree; re-runs only if a result changes
 * //
 * // ✓ fresh 1   ► will run 1   ◇ waits 1
 */
export function asciiGraph(view: GraphView, options: { color?: boolean } = {}): string {
  const paint = options.color ? ansi : plain;
  const count = view.nodes.length;
  const lines = [`${view.pipeline}: ${count === 0 ? 'no tasks' : count === 1 ? '1 task' : `${count} tasks`}`];
  const nameWidth = Math.min(NAME_COLUMN_LIMIT, Math.max(0, ...view.nodes.map((node) => node.name.length)));
  for (const [index, layer] of layers(view).entries()) {
    lines.push(paint.dim(`layer ${index + 1}`));
    for (const node of layer) lines.push(`  ${line(node, nameWidth, paint)}`);
  }
  const counts = countStates(view);
  const legend = NODE_STATES.filter((state) => counts[state] > 0).map((state) => `${paint.state(state, STATE_STYLES[state].marker)} ${state} ${counts[state]}`);
  if (legend.length > 0) lines.push('', legend.join('   '));
  return lines.join('\n');
}

function line(node: GraphNode, nameWidth: number, paint: Paint): string {
  const style = STATE_STYLES[node.state];
  const parts = [`${paint.state(node.state, style.marker)} ${node.name.padEnd(nameWidth)}  ${paint.state(node.state, node.state.padEnd(STATE_COLUMN))}`];
  if (node.dependencies.length > 0) parts.push(`← ${node.dependencies.join(', ')}`);
  if (node.detail) parts.push(paint.dim(node.detail));
  return parts.join('  ').trimEnd();
}

/**
 * The nodes by layer: a task with no dependencies is in the first, any other one layer below its
 * deepest dependency. Within a layer, the view's order is kept.
 */
function layers(view: GraphView): GraphNode[][] {
  const depth = new Map<string, number>();
  const result: GraphNode[][] = [];
  for (const node of view.nodes) {
    // The view is in topological order, so every dependency already has its depth.
    const level = Math.max(-1, ...node.dependencies.map((dependency) => depth.get(dependency) ?? -1)) + 1;
    depth.set(node.name, level);
    (result[level] ??= []).push(node);
  }
  return result;
}

interface Paint {
  state(state: GraphNode['state'], text: string): string;
  dim(text: string): string;
}

const plain: Paint = { state: (_state, text) => text, dim: (text) => text };

// Plain ANSI rather than util.styleText, which on newer Nodes drops colour when stdout is not a
// terminal: the caller has already decided whether colour is wanted.
const ansi: Paint = {
  state: (state, text) => `\x1b[${STATE_STYLES[state].ansi}m${text}\x1b[39m`,
  dim: (text) => `\x1b[2m${text}\x1b[22m`,
};
