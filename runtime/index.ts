/**
 * The engine: compile a workflow to an XState machine, run it, and report
 * what happens.
 */
export { run, runEffect, type RunOptions } from "./Run.ts"
export { compile, type CompileOptions, type MachineEvent } from "./Machine.ts"
export type { RunResult, StepSummary } from "./RunState.ts"
export { unreachable, type Event, type EventOf, type EventType, type RunStatus, type LogStream, type StepInfo } from "./Event.ts"
export type { StepStatus, EndStatus } from "./StepStatus.ts"
export { silent, type Reporter, type Write } from "./Reporter.ts"
export { plain, json } from "./reporters/index.ts"
export { SummaryBuilder, criticalPath, formatDuration, type Summary, type StepLine } from "./Summary.ts"
export { nextToStart } from "./Scheduler.ts"
export { compose, retrying, timing, announcing, defaultStages, type Stage, type StepRun } from "./Pipeline.ts"
export { CommandError } from "./Process.ts"
export { memo, makeMemoScope, withMemoScope, currentMemoScope, type MemoOptions, type MemoStats, type MemoEvent, MemoScope } from "./memo.ts"
export type { CacheSettings } from "./cache/runCache.ts"
export { appendHistory, historyFile, hitRates, readHistory, recordOf, type HistoryRecord, type HitRates } from "./history/index.ts"
