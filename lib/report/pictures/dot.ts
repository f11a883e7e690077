import { type GraphView, STATE_STYLES } from './view.js';

const FONT = 'Helvetica,Arial,sans-serif';

/**
 * The graph in Graphviz DOT: one filled box per task, coloured by state, with its state and why
 * as the tooltip, and an arrow from each dependency to its dependents.
 *
 * @example
 * // littlepipes graph --format dot | dot -Tsvg > graph.svg
 * console.log(dotGraph(view));
 * // digraph "Example1" {
 * //   "TaskOne" [label="TaskOne", class="fresh", fillcolor="#bbf7d0", ...];
 * //   "TaskOne" -> "Sum";
 * // }
 */
export function dotGraph(view: GraphView): string {
  const names = new Set(view.nodes.map((node) => node.name));
  const lines = [
    `digraph ${quoted(view.pipeline)} {`,
    `  graph [rankdir=LR, fontname="${FONT}", label=${quoted(view.pipeline)}, labelloc=t, nodesep=0.25, ranksep=0.6];`,
    `  node [shape=box, style="rounded,filled", fontname="${FONT}", fontsize=12, penwidth=1.5];`,
    '  edge [color="#94a3b8", arrowsize=0.7];',
  ];
  for (const node of view.nodes) {
    const style = STATE_STYLES[node.state];
    const tooltip = [`${node.name}: ${node.state}`, node.detail, node.description].filter(Boolean).join('\n');
    const attributes = [
      `label=${quoted(node.name)}`,
      `class="${style.slug}"`,
      `style="${style.dashed ? 'rounded,filled,dashed' : 'rounded,filled'}"`,
      `fillcolor="${style.fill}"`,
      `color="${style.stroke}"`,
      `fontcolor="${style.text}"`,
      `tooltip=${quoted(tooltip)}`,
    ];
    lines.push(`  ${quoted(node.name)} [${attributes.join(', ')}];`);
  }
  for (const node of view.nodes) {
    for (const dependency of node.dependencies) if (names.has(dependency)) lines.push(`  ${quoted(dependency)} -> ${quoted(node.name)};`);
  }
  lines.push('}');
  return lines.join('\n');
}

/**
 * A quoted DOT string, for names and labels alike. Inside quotes DOT itself gives meaning only
 * to `\"`, but Graphviz reads labels and tooltips as escape strings, where `\N`, `\G`, `\l`...
 * are substituted: a doubled backslash keeps the text as written (and one at the end cannot
 * swallow the closing quote), and a newline becomes `\n`.
 */
function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (char) => `\\${char}`).replace(/\r?\n/g, '\\n')}"`;
}
