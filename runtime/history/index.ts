/**
 * Run history beside the cache store (`.weft/history/`): a record per run,
 * each kept run's report, each step's recent durations, and the hit rates
 * `weft cache stats` shows.
 */
export { appendHistory, historyDir, historyFile, maxRecords, readHistory, readRuns, recordOf, type HistoryRecord } from "./History.ts"
export { hitRates, type HitRates } from "./hitRates.ts"
export { readRunDetail, RunRecorder, type RunDetail, type StepDetail } from "./RunDetail.ts"
export { nextRunNumber, readDurations } from "./durations.ts"
export { recordRun } from "./recordRun.ts"
export { makeRunId } from "./runId.ts"
