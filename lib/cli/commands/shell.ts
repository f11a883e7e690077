import path from 'node:path';
import { loadPipeline } from '../load.js';
import { Shell } from '../../shell/shell.js';

/**
 * `littlepipes shell`: loads the pipeline module (`--pipeline FILE`, else the one package.json
 * names, else ./pipeline.ts), runs the shell until the user leaves, closes the pipeline.
 * Resolves to the exit code: 0 when the user left. A pipeline that cannot be loaded rejects
 * with PipelineLoadError, for the command line to report as it reports every command's.
 *
 * History is kept in the cache folder, so Up recalls last session's commands too.
 *
 * @example
 * process.exitCode = await runShell({ pipeline: 'pipelines/sales.ts' });
 */
export async function runShell(options: { pipeline?: string; verbose?: boolean; color?: boolean } = {}): Promise<number> {
  const { pipeline } = await loadPipeline(options.pipeline);
  try {
    const shell = new Shell({
      pipeline,
      verbose: options.verbose ?? false,
      // Only an explicit --no-color turns colour off; otherwise the shell decides from its terminal.
      ...(options.color === false ? { color: false } : {}),
      historyFile: path.join(pipeline.cacheDir, `shell-history-${pipeline.name}`),
    });
    await shell.run();
  } finally {
    await pipeline.close();
  }
  return 0;
}
