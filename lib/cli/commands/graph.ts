import fs from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { type RunRecord, describeCounts } from '../../run/outcome.js';
import { EXIT, type CommandContext, htmlFolderProblem } from '../context.js';

interface GraphFlags {
  format: 'ascii' | 'mermaid' | 'dot';
  html?: string;
  timeline?: boolean;
  profile?: string;
}

/** `littlepipes graph`: the DAG coloured by what `run` would do, and the timeline of the last run. */
export function graphCommand(program: Command, context: CommandContext): void {
  program
    .command('graph')
    .description('draw the task graph, coloured by state; and the timeline of the last run')
    .addOption(new Option('--format <format>', 'how to draw it').choices(['ascii', 'mermaid', 'dot']).default('ascii'))
    .option('--timeline', 'the last run as a timeline instead (Mermaid gantt)')
    .option('--profile <name>', 'colour the graph for a profile from littlepipes.yaml')
    .option('--html <file>', 'write one self-contained HTML page with the graph and the last run')
    .addHelpText('after', `
Examples:
  $ littlepipes graph                      in the terminal
  $ littlepipes graph --format mermaid     for a markdown file
  $ littlepipes graph --format dot | dot -Tsvg > graph.svg
  $ littlepipes graph --timeline           the last run, as a Mermaid gantt chart
  $ littlepipes graph --html pipeline.html`)
    .action(async (flags: GraphFlags) => {
      const htmlProblem = htmlFolderProblem(flags.html);
      if (htmlProblem) {
        context.output.err(htmlProblem);
        context.exit(EXIT.usage);
        return;
      }
      const { pipeline } = await context.load();
      // Loaded here, not at start-up: the layout engine is only needed to draw.
      const { asciiGraph, dotGraph, graphViewFromPlan, graphViewFromRun, hasTimes, htmlPage, mermaidGraph, mermaidTimeline } = await import('../../report/pictures/index.js');
      const history = await pipeline.history(flags.timeline ? {} : { limit: 1 });
      const [lastRun] = history;
      if (flags.timeline) {
        if (!lastRun) {
          context.output.err('littlepipes: the pipeline has not run yet, so there is no timeline. Run it first: littlepipes run');
          context.exit(EXIT.failed);
          return;
        }
        // A run served from the cache spent no time in tasks: its chart would be empty. The one
        // drawn is the last run that ran a task, and stderr says which (stdout stays a chart).
        const drawn = history.findIndex((run) => run.tasks.some(hasTimes));
        const counts = describeCounts(lastRun.counts);
        if (drawn === -1) {
          const none = history.length === 1 ? `the only run in the history ran no task (${counts})` : `none of the ${history.length} runs in the history ran a task (the last: ${counts})`;
          context.output.err(`littlepipes: ${none}, so there is no timeline to draw. littlepipes run --force runs every task again.`);
          context.exit(EXIT.failed);
          return;
        }
        const run = history[drawn]!;
        if (drawn === 1) context.output.err(`littlepipes: the last run (${startedAt(lastRun)}) ran no task: ${counts}. This is the timeline of the run before it (${startedAt(run)}).`);
        else if (drawn > 1) context.output.err(`littlepipes: the last ${drawn} runs ran no task (the last: ${counts}). This is the timeline of the run of ${startedAt(run)}, the last that ran one.`);
        // With the graph, the critical path is marked.
        context.output.out(mermaidTimeline(run, graphViewFromRun(pipeline.tasks, run)));
        return;
      }
      const view = graphViewFromPlan(pipeline.tasks, await pipeline.plan(flags.profile ? { profile: flags.profile } : {}));
      if (flags.html) {
        const file = path.resolve(flags.html);
        await fs.promises.writeFile(file, htmlPage({ graph: view, run: lastRun, title: pipeline.name }));
        context.output.err(`Wrote ${file}`);
        return;
      }
      if (flags.format === 'mermaid') context.output.out(mermaidGraph(view));
      else if (flags.format === 'dot') context.output.out(dotGraph(view));
      else context.output.out(asciiGraph(view, { color: context.output.color }));
    });
}

/** When a run started, as `littlepipes history` writes it: 2026-11-22 10:01:02, local time. */
function startedAt(run: RunRecord): string {
  return new Date(run.startedAt).toLocaleString('sv-SE');
}
