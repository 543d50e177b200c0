/** Run history: a record per run beside the cache store, and the hit rates `weft cache stats` shows. */
export { appendHistory, historyFile, hitRates, maxRecords, readHistory, recordOf, type HistoryRecord, type HitRates } from "./History.ts"
