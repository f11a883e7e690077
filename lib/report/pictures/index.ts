export { graphViewFromPlan, graphViewFromRun, criticalPath, countStates, hasTimes, NODE_STATES, STATE_STYLES } from './view.js';
export type { NodeState, GraphNode, GraphView, StateStyle } from './view.js';
export { asciiGraph } from './ascii.js';
export { mermaidGraph, mermaidTimeline } from './mermaid.js';
export { dotGraph } from './dot.js';
export { htmlPage } from './html.js';
export type { HtmlPageOptions } from './html.js';
export { layoutGraph } from './layout.js';
export type { GraphLayout, NodePlace, EdgeRoute } from './layout.js';
