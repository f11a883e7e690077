// The tasks of the threads bench: 32 independent, synchronous, CPU-bound tasks of about 200 ms
// each (LITTLEPIPES_BENCH_SPIN rounds of arithmetic, calibrated by the bench). Worker threads
// import this module to find them, so they are made when it is imported.
import { type AnyTask, Task } from '../dist/index.js';

export const CPU_TASKS = 32;

/** Deterministic arithmetic: the same rounds give the same number on any thread. */
export function spin(rounds: number, seed: number): number {
  let x = seed;
  for (let i = 0; i < rounds; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

export const cpuTasks: AnyTask[] = [];
for (let i = 0; i < CPU_TASKS; i++) {
  cpuTasks.push(new Task(`Cpu${i}`).process('run', () => spin(Number(process.env.LITTLEPIPES_BENCH_SPIN), i)));
}
