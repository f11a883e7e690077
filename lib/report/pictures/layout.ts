import dagre from '@dagrejs/dagre';
import { type GraphView, NODE_STATES } from './view.js';

/** Where a task's box goes: its centre and width (every box is `NODE_HEIGHT` high). */
export interface NodePlace {
  x: number;
  y: number;
  width: number;
}

/** An arrow from a dependency to its dependent, along the points dagre routed it through. */
export interface EdgeRoute {
  from: string;
  to: string;
  points: readonly { x: number; y: number }[];
}

/**
 * Where `htmlPage` draws each task and arrow of a graph. It depends on the graph's shape alone
 * (names and dependencies), not on the tasks' states, so a page redrawn as a run goes lays the
 * graph out once and passes the same layout to every page.
 */
export interface GraphLayout {
  width: number;
  height: number;
  /** By task name. */
  nodes: ReadonlyMap<string, NodePlace>;
  edges: readonly EdgeRoute[];
}

export const NODE_HEIGHT = 44;
const NODE_PADDING = 14;
const NODE_MIN_WIDTH = 84;
/** Longer names are cut in the drawing (the tooltip has them whole), so one name cannot stretch a column. */
const LABEL_LIMIT = 40;

/**
 * The graph laid out left to right by dagre, in Node, so the page needs no script: the costly part
 * of a page, and the same whatever state its tasks are in.
 *
 * @example
 * const layout = layoutGraph(view);
 * for (const state of states) fs.writeFileSync('run.html', htmlPage({ graph: state, layout }));
 */
export function layoutGraph(view: GraphView): GraphLayout {
  const layout = new dagre.graphlib.Graph();
  layout.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 60, marginx: 10, marginy: 10 });
  layout.setDefaultEdgeLabel(() => ({}));
  // dagre keys nodes by string; indexes keep names such as `__proto__` away from its objects.
  const ids = new Map(view.nodes.map((node, index) => [node.name, `n${index}`]));
  for (const [index, node] of view.nodes.entries()) {
    // The widest state label, whatever the task's state is now: a box keeps its size as the state changes.
    const width = Math.max(NODE_MIN_WIDTH, textWidth(shorten(node.name), 13, true), STATE_LABEL_WIDTH) + 2 * NODE_PADDING;
    layout.setNode(`n${index}`, { width: Math.ceil(width), height: NODE_HEIGHT });
  }
  for (const node of view.nodes) {
    for (const dependency of node.dependencies) if (ids.has(dependency)) layout.setEdge(ids.get(dependency)!, ids.get(node.name)!);
  }
  if (view.nodes.length > 0) dagre.layout(layout);

  const nameOf = (id: string) => view.nodes[Number(id.slice(1))]!.name;
  const nodes = new Map(view.nodes.map((node, index) => {
    const { x = 0, y = 0, width } = layout.node(`n${index}`);
    return [node.name, { x, y, width }];
  }));
  const edges = layout.edges().map((edge: { v: string; w: string }) => ({ from: nameOf(edge.v), to: nameOf(edge.w), points: layout.edge(edge).points ?? [] }));
  const { width = 0, height = 0 } = layout.graph();
  return { width, height, nodes, edges };
}

/**
 * The width of a text in pixels, estimated from character classes: the layout is computed in
 * Node, where no font can be measured. It errs wide, so names fit their boxes.
 */
export function textWidth(text: string, size: number, bold = false): number {
  let ems = 0;
  for (const char of text) {
    if (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{1f300}-\u{1faff}]/u.test(char)) ems += 1;
    else if (/[ilj.,:;'|!() [\]{}fIt]/.test(char)) ems += 0.32;
    else if (/[mwMW@%]/.test(char)) ems += 0.88;
    else if (/[A-Z0-9_#&<>=?+~]/.test(char)) ems += 0.66;
    else ems += 0.56;
  }
  return ems * size * (bold ? 1.07 : 1);
}

const STATE_LABEL_WIDTH = Math.max(...NODE_STATES.map((state) => textWidth(state, 11)));

export function shorten(name: string): string {
  const chars = [...name];
  return chars.length > LABEL_LIMIT ? `${chars.slice(0, LABEL_LIMIT - 1).join('')}…` : name;
}
