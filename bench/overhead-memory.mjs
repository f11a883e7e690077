// The memory child of the overhead bench: a cold run of N no-op tasks (the bench's graph, task i
// depending on i-1 and floor(i/2)) in the folder given, then its peak RSS. Run through sh by the
// bench, so that the peak is this process's own (see peakRssKb in overhead.ts).
import { Pipeline, Task } from '../dist/index.js';

const [count, cacheDir] = [Number(process.argv[2]), process.argv[3]];
const tasks = [];
for (let i = 0; i < count; i++) {
  const dependencies = i === 0 ? [] : [...new Set([`T${i - 1}`, `T${Math.floor(i / 2)}`])];
  tasks.push(new Task(`T${i}`, { dependencies }).process('run', () => i));
}
const pipeline = new Pipeline('Overhead', { cacheDir }).add(...tasks);
const report = await pipeline.execute({ progress: false });
await pipeline.close();
if (report.counts.ran !== count) throw new Error(`expected ${count} tasks ran, got ${JSON.stringify(report.counts)}`);
process.stdout.write(JSON.stringify({ peakKb: process.resourceUsage().maxRSS }));
