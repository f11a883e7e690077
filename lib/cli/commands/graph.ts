import fs from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
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
      const { asciiGraph, dotGraph, graphViewFromPlan, graphViewFromRun, htmlPage, mermaidGraph, mermaidTimeline } = await import('../../report/pictures/index.js');
      const [lastRun] = await pipeline.history({ limit: 1 });
      if (flags.timeline) {
        if (!lastRun) {
          context.output.err('littlepipes: the pipeline has not run yet, so there is no timeline. Run it first: littlepipes run');
          context.exit(EXIT.failed);
          return;
        }
        // With the graph, the critical path is marked.
        context.output.out(mermaidTimeline(lastRun, graphViewFromRun(pipeline.tasks, lastRun)));
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
