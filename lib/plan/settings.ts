/** What a run is asked to do, already validated. */
export interface RunSettings {
  /** `true` re-runs every task; a set re-runs those. */
  force: true | ReadonlySet<string>;
  /** When set, only these tasks and what they need are part of the run. */
  only: ReadonlySet<string> | undefined;
  /** Tasks left out of the run (a profile's stages, optional groups, stopAfter, anyOf gates), with why. */
  excluded?: ReadonlyMap<string, string>;
  /** Tasks not to execute; their fresh cached results still serve their dependents. */
  skip: ReadonlySet<string>;
  concurrency: number;
  signal: AbortSignal | undefined;
}
