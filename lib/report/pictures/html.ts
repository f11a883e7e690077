import { InvalidOptionError } from '../../errors.js';
import { type RunRecord, type TaskRecord } from '../../run/outcome.js';
import { formatMs } from '../../words.js';
import { type GraphLayout, NODE_HEIGHT, layoutGraph, shorten, textWidth } from './layout.js';
import { type GraphNode, type GraphView, type NodeState, NODE_STATES, STATE_STYLES, countStates, criticalPath, hasTimes } from './view.js';

/** What `htmlPage` draws. */
export interface HtmlPageOptions {
  /** The tasks, coloured by state. */
  graph: GraphView;
  /** A run to draw as a timeline below the graph: usually the last one. */
  run?: RunRecord;
  /**
   * The page's heading and title.
   * @default the pipeline's name
   */
  title?: string;
  /**
   * Reload the page every so many seconds, for a picture that a running pipeline rewrites.
   * @default no reload
   */
  refreshSeconds?: number;
  /**
   * The graph laid out by `layoutGraph`, for a page drawn again and again as the states of the
   * same tasks change: the layout of a graph of that shape (the same tasks and dependencies).
   * @default laid out here
   */
  layout?: GraphLayout;
}

/**
 * One self-contained HTML page: the graph laid out left to right, each task coloured by its
 * state with a legend of counts, and, given a run, its timeline: a bar per task from its start
 * to its end, the critical path outlined, and how many tasks ran at once. Styles and drawings
 * are inline: the page opens without a network. Hover a task for its state and why.
 *
 * @example
 * const report = await pipeline.execute({ progress: false });
 * const run = report.toJSON();
 * fs.writeFileSync('run.html', htmlPage({ graph: graphViewFromRun(pipeline.tasks, run), run }));
 */
export function htmlPage(options: HtmlPageOptions): string {
  const { graph, run, refreshSeconds } = options;
  if (refreshSeconds !== undefined && !(Number.isFinite(refreshSeconds) && refreshSeconds > 0)) {
    throw new InvalidOptionError('refreshSeconds', `htmlPage: refreshSeconds must be a number of seconds above 0, got ${String(refreshSeconds)}.`);
  }
  const missing = options.layout && graph.nodes.find((node) => !options.layout!.nodes.has(node.name));
  if (missing) {
    throw new InvalidOptionError('layout', `htmlPage: the layout has no place for the task "${missing.name}": it was laid out for another graph. Pass layoutGraph(graph), or leave layout out.`);
  }
  const title = options.title ?? graph.pipeline;
  const counts = countStates(graph);
  const tasks = graph.nodes.length;
  const head = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    refreshSeconds !== undefined && `<meta http-equiv="refresh" content="${refreshSeconds}">`,
    `<title>${escapeHTML(title)}</title>`,
    `<style>${STYLE}</style>`,
  ].filter(Boolean);
  const subtitle = [`${tasks} ${tasks === 1 ? 'task' : 'tasks'}`, run && `last run ${localTime(run.startedAt)}, ${formatMs(run.ms)}`, refreshSeconds !== undefined && `reloads every ${refreshSeconds} s`]
    .filter(Boolean)
    .join(' · ');
  const legend = NODE_STATES.map((state) => {
    const style = STATE_STYLES[state];
    return (
      `<span class="item${counts[state] === 0 ? ' none' : ''}" data-state="${state}">` +
      `<span class="swatch state-${style.slug}"></span>${state} <b>${counts[state]}</b></span>`
    );
  }).join('');
  return [
    '<!doctype html>',
    '<html lang="en">',
    `<head>${head.join('')}</head>`,
    '<body><main>',
    `<header><h1>${escapeHTML(title)}</h1><p class="sub">${escapeHTML(subtitle)}</p></header>`,
    `<section class="card graph"><h2>Tasks</h2><div class="legend">${legend}</div><div class="scroll">${graphSvg(graph, options.layout)}</div></section>`,
    run ? `<section class="card timeline"><h2>Timeline of the run</h2>${timeline(run, graph)}</section>` : '',
    '</main></body>',
    '</html>',
  ].join('\n');
}

/** The graph drawn as SVG where `layout` (by default, dagre here and now) puts its tasks and arrows. */
function graphSvg(view: GraphView, layout: GraphLayout = layoutGraph(view)): string {
  if (view.nodes.length === 0) return '<p class="empty">The pipeline has no tasks.</p>';
  const byName = new Map(view.nodes.map((node) => [node.name, node]));
  const edges = layout.edges.flatMap((edge) => {
    const [from, to] = [byName.get(edge.from), byName.get(edge.to)];
    if (!from || !to) return [];
    // An arrow that carries no result (from a failed, blocked or unusable task into a blocked one) shows why.
    const broken = to.state === 'blocked' && NO_RESULT.has(from.state);
    return [`<path class="edge${broken ? ' broken' : ''}" d="${smoothPath(edge.points)}" marker-end="url(#lp-arrow${broken ? '-broken' : ''})"/>`];
  });
  const nodes = view.nodes.map((node) => {
    const { x, y, width } = layout.nodes.get(node.name)!;
    const tooltip = [`${node.name}: ${node.state}`, node.detail, node.description].filter(Boolean).join('\n');
    return (
      `<g class="node state-${STATE_STYLES[node.state].slug}" data-task="${escapeHTML(node.name)}" data-state="${node.state}" transform="translate(${round(x)},${round(y)})">` +
      `<title>${escapeHTML(tooltip)}</title>` +
      `<rect x="${round(-width / 2)}" y="${-NODE_HEIGHT / 2}" width="${width}" height="${NODE_HEIGHT}" rx="8"/>` +
      `<text class="name" y="-2">${escapeHTML(shorten(node.name))}</text>` +
      `<text class="state" y="13">${node.state}</text></g>`
    );
  });
  const [width, height] = [Math.ceil(layout.width), Math.ceil(layout.height)];
  return (
    `<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHTML(`Task graph of ${view.pipeline}`)}">` +
    `<defs>${arrow('lp-arrow', '#94a3b8')}${arrow('lp-arrow-broken', '#f87171')}</defs>` +
    `<g class="edges">${edges.join('')}</g><g class="nodes">${nodes.join('')}</g></svg>`
  );
}

const NO_RESULT: ReadonlySet<NodeState> = new Set(['failed', 'blocked', 'skipped', 'cancelled']);

function arrow(id: string, color: string): string {
  return `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${color}"/></marker>`;
}

/**
 * A curve along dagre's points: a uniform B-spline (d3's curveBasis), which stays inside the
 * hull of the points, so edges bend around nodes without overshooting into loops. It starts and
 * ends exactly on the first and last points, where dagre puts the node borders.
 */
function smoothPath(points: readonly { x: number; y: number }[]): string {
  const at = (x: number, y: number) => `${round(x)},${round(y)}`;
  const [first, second] = points;
  if (!first) return '';
  if (!second) return `M${at(first.x, first.y)}`;
  const parts = [`M${at(first.x, first.y)}`];
  if (points.length === 2) return `${parts[0]}L${at(second.x, second.y)}`;
  parts.push(`L${at((5 * first.x + second.x) / 6, (5 * first.y + second.y) / 6)}`);
  let [a, b] = [first, second];
  // Each point pulls the curve between the two before it; the last point pulls it once more, onto itself.
  for (const c of [...points.slice(2), points.at(-1)!]) {
    parts.push(`C${at((2 * a.x + b.x) / 3, (2 * a.y + b.y) / 3)} ${at((a.x + 2 * b.x) / 3, (a.y + 2 * b.y) / 3)} ${at((a.x + 4 * b.x + c.x) / 6, (a.y + 4 * b.y + c.y) / 6)}`);
    [a, b] = [b, c];
  }
  parts.push(`L${at(b.x, b.y)}`);
  return parts.join('');
}

const ROW = 24;
const BAR = 14;
const PLOT_WIDTH = 860;
/** Room right of the plot for the duration printed after the last bar. */
const RIGHT_ROOM = 64;
const AXIS = 26;
const LOAD_HEIGHT = 52;
const LOAD_LABEL = 'running at once';

/** Each bar's colour, by what happened to the task. */
const BAR_STATES: Record<string, NodeState> = { ran: 'fresh', failed: 'failed', cancelled: 'cancelled' };

/**
 * The run as a timeline: a row per task that ran, its bar from start to end on a shared time
 * axis, the critical path outlined and linked, and below, a step chart of how many tasks ran at
 * once, where the gaps under its peak are the idle slots.
 */
function timeline(run: RunRecord, graph: GraphView): string {
  const bars = run.tasks.filter(hasTimes).sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  if (bars.length === 0) return '<p class="empty">No task ran: every task was cached, skipped or blocked.</p>';
  const critical = criticalPath(run, graph);
  const onPath = new Set(critical);
  const total = Math.max(run.ms, ...bars.map((task) => task.endMs), 1);
  const labelWidth = Math.ceil(Math.min(260, Math.max(textWidth(LOAD_LABEL, 12), ...bars.map((task) => textWidth(shorten(task.name), 12, onPath.has(task.name))))) + 16);
  const x = (ms: number) => labelWidth + (ms / total) * PLOT_WIDTH;
  const rowY = (index: number) => AXIS + index * ROW;
  const loadTop = rowY(bars.length) + 14;
  const width = labelWidth + PLOT_WIDTH + RIGHT_ROOM;
  const height = loadTop + LOAD_HEIGHT + 8;

  const step = tickStep(total);
  const ticks: string[] = [];
  // Counted, not summed, so that steps such as 0.1 ms do not drift.
  for (let index = 0; index * step <= total * (1 + 1e-9); index++) {
    const ms = index * step;
    ticks.push(`<line class="grid" x1="${round(x(ms))}" x2="${round(x(ms))}" y1="${AXIS - 6}" y2="${loadTop + LOAD_HEIGHT}"/><text class="tick" x="${round(x(ms))}" y="${AXIS - 10}">${tickLabel(ms, step)}</text>`);
  }
  const rows = bars.map((task, index) => {
    const y = rowY(index);
    const left = x(task.startMs);
    const barWidth = Math.max(2, x(task.endMs) - left);
    const critical = onPath.has(task.name);
    const tooltip = `${task.name}: ${task.status} in ${formatMs(task.ms)}, from ${formatMs(task.startMs)} to ${formatMs(task.endMs)}${critical ? ' (critical path)' : ''}\n${task.error?.message ?? task.reason}`;
    return (
      `<g class="row${critical ? ' critical' : ''}" data-status="${task.status}">` +
      `<title>${escapeHTML(tooltip)}</title>` +
      `<rect class="band" x="0" y="${y}" width="${width}" height="${ROW}"/>` +
      `<text class="label" x="${labelWidth - 8}" y="${y + ROW / 2 + 4}">${escapeHTML(shorten(task.name))}</text>` +
      `<rect class="bar state-${STATE_STYLES[BAR_STATES[task.status] ?? 'fresh'].slug}" data-task="${escapeHTML(task.name)}" x="${round(left)}" y="${y + (ROW - BAR) / 2}" width="${round(barWidth)}" height="${BAR}" rx="3"${reportTimes(task)}/>` +
      `<text class="duration" x="${round(left + barWidth + 5)}" y="${y + ROW / 2 + 4}">${formatMs(task.ms)}</text></g>`
    );
  });
  const rowOf = new Map(bars.map((task, index) => [task.name, index]));
  // From the end of each task on the path down to the start of the next, which waited for it.
  const links = critical.slice(1).map((name, index) => {
    const [from, to] = [rowOf.get(critical[index]!)!, rowOf.get(name)!];
    const [end, start] = [x(bars[from]!.endMs), x(bars[to]!.startMs)];
    return `<path class="link" d="M${round(end)},${rowY(from) + ROW / 2}H${round(Math.max(end, start))}V${rowY(to) + ROW / 2}"/>`;
  });
  const chainMs = critical.length > 0 ? bars[rowOf.get(critical.at(-1)!)!]!.endMs - bars[rowOf.get(critical[0]!)!]!.startMs : 0;
  const summary =
    `<p class="path"><b>Critical path</b> ${critical.map((name) => `<span class="step">${escapeHTML(name)}</span>`).join(' → ')}` +
    ` <span class="muted">${formatMs(chainMs)} of the ${formatMs(run.ms)} run; outlined below</span></p>`;
  const statuses = Object.keys(BAR_STATES).filter((status) => bars.some((task) => task.status === status));
  const legend = statuses.map((status) => {
    const color = STATE_STYLES[BAR_STATES[status]!].stroke;
    return `<span class="item"><span class="swatch" style="background:${color};border-color:${color}"></span>${status}</span>`;
  });
  legend.push('<span class="item"><span class="swatch critical"></span>critical path</span>');
  return (
    summary +
    `<div class="legend">${legend.join('')}</div>` +
    `<div class="scroll"><svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHTML(`Timeline of the run of ${run.pipeline}`)}">` +
    `<g class="ticks">${ticks.join('')}</g><g class="rows">${rows.join('')}</g><g class="links">${links.join('')}</g>` +
    load(bars, x, labelWidth, loadTop) +
    `<line class="end" x1="${round(x(run.ms))}" x2="${round(x(run.ms))}" y1="${AXIS - 6}" y2="${loadTop + LOAD_HEIGHT}"><title>end of the run, ${formatMs(run.ms)}</title></line>` +
    '</svg></div>'
  );
}

/** The report's times of a task, exact, for whoever reads the page by program: a bar is drawn from them, rounded. */
function reportTimes(task: TaskRecord & { startMs: number; endMs: number }): string {
  return ` data-start-ms="${task.startMs}" data-end-ms="${task.endMs}" data-ms="${task.ms}"`;
}

/** How many tasks ran at each moment, as a filled step chart under the bars. */
function load(bars: readonly (TaskRecord & { startMs: number; endMs: number })[], x: (ms: number) => number, labelWidth: number, top: number): string {
  // At a shared instant the ending task is counted out before the starting one comes in.
  const events = bars.flatMap((task) => [{ at: task.startMs, change: 1 }, { at: task.endMs, change: -1 }]).sort((a, b) => a.at - b.at || a.change - b.change);
  // Events closer than a pixel are one step: a task that starts as its upstream ends would
  // otherwise draw a dip no wider than a hairline.
  const msPerPixel = 1 / (x(1) - x(0));
  let running = 0;
  const steps: { at: number; running: number }[] = [];
  for (const event of events) {
    running += event.change;
    const last = steps.at(-1);
    if (last && event.at - last.at < msPerPixel) last.running = running;
    else steps.push({ at: event.at, running });
  }
  const peak = Math.max(...steps.map((step) => step.running));
  const bottom = top + LOAD_HEIGHT;
  const y = (count: number) => bottom - (count / Math.max(peak, 1)) * (LOAD_HEIGHT - 6);
  let d = `M${round(x(steps[0]!.at))},${bottom}`;
  let level = 0;
  for (const step of steps) {
    d += `V${round(y(level))}H${round(x(step.at))}V${round(y(step.running))}`;
    level = step.running;
  }
  d += `V${bottom}Z`;
  const levels = Array.from({ length: peak }, (_, index) => index + 1)
    .filter((count) => peak <= 6 || count === peak)
    .map((count) => `<line class="level" x1="${labelWidth}" x2="${labelWidth + PLOT_WIDTH}" y1="${round(y(count))}" y2="${round(y(count))}"/>`);
  return (
    `<g class="load"><title>${escapeHTML(`tasks running at once: ${peak} at most`)}</title>` +
    `<line class="baseline" x1="${labelWidth}" x2="${labelWidth + PLOT_WIDTH}" y1="${bottom}" y2="${bottom}"/>${levels.join('')}` +
    `<path class="area" d="${d}"/>` +
    `<text class="label" x="${labelWidth - 8}" y="${top + 16}">${LOAD_LABEL}</text>` +
    `<text class="label muted" x="${labelWidth - 8}" y="${top + 32}">at most ${peak}</text></g>`
  );
}

/** A round step between ticks (1, 2 or 5 times a power of ten) giving about eight ticks. */
function tickStep(total: number): number {
  const rough = total / 8;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((factor) => factor * power).find((step) => step >= rough) ?? 10 * power;
}

function tickLabel(ms: number, step: number): string {
  if (ms === 0) return '0';
  if (step < 1000) return step < 1 ? `${ms.toFixed(2)} ms` : `${round(ms)} ms`;
  if (step < 60_000) return `${+(ms / 1000).toFixed(step < 10_000 ? 1 : 0)} s`;
  return `${Math.floor(ms / 60_000)} min${ms % 60_000 ? ` ${Math.round((ms % 60_000) / 1000)} s` : ''}`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** `2024-05-01 14:03:07` in the local time zone of whoever draws the page. */
function localTime(iso: string): string {
  const date = new Date(iso);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML and SVG content and in quoted attributes. */
function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

const STATE_CSS = NODE_STATES.map((state) => {
  const { slug, fill, stroke, text, dashed } = STATE_STYLES[state];
  return (
    `.node.state-${slug} rect{fill:${fill};stroke:${stroke};${dashed ? 'stroke-dasharray:5 3;' : ''}}` +
    `.node.state-${slug} text{fill:${text}}` +
    `.swatch.state-${slug}{background:${fill};border-color:${stroke};${dashed ? 'border-style:dashed;' : ''}}` +
    `.bar.state-${slug}{fill:${stroke}}`
  );
}).join('');

const STYLE =
  ':root{color-scheme:light;--ink:#111827;--muted:#6b7280;--line:#e5e7eb}' +
  '*{box-sizing:border-box}' +
  'body{margin:0;background:#f6f7f9;color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}' +
  'main{max-width:1280px;margin:0 auto;padding:22px 26px 36px}' +
  'h1{font-size:22px;margin:0 0 2px;letter-spacing:-.01em}' +
  'h2{font-size:15px;margin:0 0 10px}' +
  '.sub,.muted{color:var(--muted)}.sub{margin:0 0 18px}' +
  '.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:0 0 18px;box-shadow:0 1px 2px rgb(0 0 0/.04)}' +
  '.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin:0 0 12px;font-size:13px}' +
  '.legend .item{display:inline-flex;align-items:center;gap:6px}.legend .none{opacity:.4}' +
  '.swatch{display:inline-block;width:14px;height:14px;border-radius:4px;border:1.5px solid}' +
  '.scroll{overflow:auto}.empty{color:var(--muted);margin:0}' +
  'svg{display:block;font-family:inherit}svg text{font-family:inherit}' +
  '.node rect{stroke-width:1.5}.node:hover rect{stroke-width:3}' +
  '.node .name{font-size:13px;font-weight:600;text-anchor:middle}.node .state{font-size:11px;text-anchor:middle;opacity:.8}' +
  '.node.state-running rect{animation:lp-pulse 1.2s ease-in-out infinite alternate}@keyframes lp-pulse{to{stroke-width:4}}' +
  '.edge{fill:none;stroke:#94a3b8;stroke-width:1.4}.edge.broken{stroke:#f87171;stroke-dasharray:5 4}' +
  '.swatch.critical{border:2px solid var(--ink);background:#fff}' +
  '.path{margin:0 0 10px}.path .step{display:inline-block;padding:0 6px;border:1.5px solid var(--ink);border-radius:5px;font-weight:600;font-size:13px}' +
  '.timeline .tick{font-size:11px;fill:var(--muted);text-anchor:middle}.timeline .grid{stroke:#eef0f3}' +
  '.timeline .band{fill:transparent}.timeline .row:hover .band{fill:#f3f4f6}' +
  '.timeline .label{font-size:12px;text-anchor:end;fill:var(--ink)}.timeline .label.muted{fill:var(--muted);font-size:11px}' +
  '.timeline .duration{font-size:11px;fill:var(--muted)}' +
  '.timeline .critical .bar{stroke:#111827;stroke-width:2}.timeline .critical .label{font-weight:700}' +
  '.timeline .link{fill:none;stroke:#111827;stroke-width:1.2;stroke-dasharray:3 3}' +
  '.timeline .end{stroke:#9ca3af;stroke-dasharray:4 3}' +
  '.load .area{fill:#fde68a;stroke:#d97706;stroke-width:1.2}.load .baseline{stroke:#d1d5db}.load .level{stroke:#eef0f3}' +
  STATE_CSS;
