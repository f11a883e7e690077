export { Task, tasksIn, RESERVED_PROCESS_NAMES } from './task.js';
export { anyOf, AnyOf } from './graph/composition.js';
export type { Profile } from './plan/selection.js';
export type { TaskOptions, RetryOptions, RetryPolicy, TaskContext, TaskContextBase, LooseTaskContext, ProcessMap, AnyTask, ResultOf, PipelineView } from './task.js';
export type { DependencyItem, UpstreamResults, TaskParams, FrozenJson } from './task-types.js';
export { Pipeline } from './pipeline.js';
export { DEFAULT_CONCURRENCY } from './pipeline-options.js';
export type { PipelineOptions, ExecuteOptions } from './pipeline-options.js';
export type { CacheListing } from './cache/listing.js';
export type { ExecutorName } from './run/executors/executor.js';
export { expire, toExpiryPolicy } from './cache/expiry.js';
export type { ExpiryPolicy, ExpiryOption } from './cache/expiry.js';
export { RunReport } from './run/outcome.js';
export { formatMs } from './words.js';
export type { TaskReport, TaskStatus, ProcessTiming, RunRecord, TaskRecord } from './run/outcome.js';
export { renderTable } from './report/table.js';
export { showResult } from './report/notebook.js';
export { valueToHTML } from './report/value-html.js';
export type { ExportOptions } from './report/export.js';
export type { ProgressListener } from './run/events.js';
export { Shell, ShellUsageError, type ShellCommand, type ShellOptions } from './shell/shell.js';
export type { Plan, TaskPlan, PlanReason, PlanAction } from './plan/plan.js';
export { commandTask, type CommandTaskOptions, type CommandResult, type CommandTaskResult, type CommandTaskOfJson } from './tasks/command-task.js';
export { rTask, type RTaskOptions, type RTaskOfJson } from './tasks/r-task.js';
export { CommandFailedError, CommandStartError, CommandOutputError } from './errors.js';
export { sqlTask, SqlStatementError, type SqlTaskOptions, type SqlResult, type SqlTaskResult, type SqlTaskOfRows, type SqlRow, type SqlValue, type TableOutput } from './tasks/sql-task.js';
export {
  LittlepipesError,
  TaskDefinitionError,
  InvalidOptionError,
  ExpiryPolicyError,
  DuplicateTaskError,
  UnknownTaskError,
  PipelineValidationError,
  UndeclaredDependencyError,
  NoFreshResultError,
  UncacheableResultError,
  PeerPackageError,
  DamagedResultError,
  CacheStoreError,
  PipelineLoadError,
  TaskTimeoutError,
  ResultTooLargeError,
  ResourceError,
  ConfigError,
  CodeAnalysisError,
  InputFileError,
  OutputFileError,
  PipelineRunError,
  RunCancelledError,
  ExecutorError,
  WorkerMismatchError,
} from './errors.js';
export type { ValidationProblem, NoResultReason } from './errors.js';
export { defineFormat, type ResultFormat } from './cache/formats/format.js';
