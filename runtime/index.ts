/**
 * The engine: compile a workflow to an XState machine, run it, and report
 * what happens.
 */
export { run, runEffect, type RunOptions } from "./Run.ts"
export { compile, type CompileOptions, type MachineEvent, type RunContext, type RunMachine } from "./Machine.ts"
export type { Progress, RunResult, StepSummary } from "./RunState.ts"
export { stepLogic, type StepActorContext, type StepActorSnapshot, type StepActorState } from "./StepActor.ts"
export { inspectionWriter, type InspectionLine } from "./inspect/index.ts"
export { unreachable, type Event, type EventOf, type EventType, type RunStatus, type LogStream, type StepInfo } from "./Event.ts"
export type { StepStatus, EndStatus } from "./StepStatus.ts"
export { silent, tee, type Reporter, type Write } from "./Reporter.ts"
export { plain, json } from "./reporters/index.ts"
export { SummaryBuilder, criticalPath, formatDuration, type Summary, type StepLine } from "./Summary.ts"
export { nextToStart } from "./Scheduler.ts"
export { defaultFunctionConcurrency, resolveConcurrency, type ConcurrencyLimits } from "./concurrency.ts"
export { defaultWeftDir } from "./weftDir.ts"
export { compose, type Feature, type Stage, type StepRun } from "./Pipeline.ts"
export { defaultStages } from "./features.ts"
export { retrying } from "./retrying.ts"
export { rateLimiting } from "./rateLimiting.ts"
export { timing } from "./timeout.ts"
export { announcing } from "./announce.ts"
export type { Executor, StepBody } from "./Executor.ts"
export { localExecutor } from "./executors/local.ts"
export { isolatedExecutor } from "./executors/isolated.ts"
export type { StepReport } from "./StepReport.ts"
export { CommandError } from "./Process.ts"
export { baseEnvNames, minSecretLength, UndeclaredEnvError, PermissionError } from "./permissions/index.ts"
export { memo, batched, makeMemoScope, withMemoScope, currentMemoScope, type MemoOptions, type BatchedOptions, type MemoStats, type MemoEvent, MemoScope } from "./memo.ts"
export type { CacheSettings } from "./cache/runCache.ts"
export { defaultCacheMaxBytes } from "./cache/autoPrune.ts"
// Types only: watch mode's code (chokidar) loads with `weft watch`, not with every workflow file.
export type { KeptResult, Session, SessionOptions, WatchControls, WatchEvent, WatchEventType } from "./watch/index.ts"
export {
  appendHistory, historyDir, historyFile, hitRates, makeRunId, nextRunNumber, readDurations, readHistory, readRunDetail, readRuns, recordOf, recordRun, RunRecorder,
  type HistoryRecord, type HitRates, type RunDetail, type StepDetail
} from "./history/index.ts"
export { logFiles, logsDir, type LogFilesOptions } from "./logs/index.ts"
export { traceWriter, TraceBuilder, type Trace, type TraceEvent, type TraceWriterOptions } from "./trace/index.ts"
