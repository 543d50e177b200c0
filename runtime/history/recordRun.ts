/**
 * Adding a finished run to the history folder: its report file, its record
 * (trimming the oldest, and their reports with them), and its steps'
 * durations. The record and durations change under one lock on
 * `runs.ndjson`, so two weft processes finishing at once both land; each file
 * is replaced atomically, so a reader never sees half of one.
 */
import * as fs from "node:fs/promises"
import { writeAtomic } from "../internal/atomic.ts"
import { recordDurations } from "./durations.ts"
import { appendLocked, historyDir, historyFile, legacyHistoryFile, maxRecords, readHistory, type HistoryRecord } from "./History.ts"
import { withFileLock } from "./internal/lock.ts"
import { detailFile, type RunDetail } from "./RunDetail.ts"

/** Records a finished run in weft's folder `weftDir`, keeping the newest `keep` runs (default {@link maxRecords}). */
export const recordRun = async (
  weftDir: string,
  run: { readonly record: HistoryRecord; readonly detail: RunDetail },
  options: { readonly keep?: number } = {}
): Promise<void> => {
  const dir = historyDir(weftDir)
  const file = historyFile(weftDir)
  await fs.mkdir(dir, { recursive: true })
  // The report first: a listed run has its report, unless trimming took both.
  const text = JSON.stringify(run.detail)
  await writeAtomic({ tmpDir: dir, target: detailFile(dir, run.detail.id), durable: false, write: (handle) => handle.writeFile(text) })
  await withFileLock(file, async () => {
    const legacy = legacyHistoryFile(weftDir)
    const moved = await readHistory(legacy)
    const dropped = await appendLocked(file, run.record, options.keep ?? maxRecords, moved)
    if (moved.length > 0) await fs.rm(legacy, { force: true })
    await Promise.all(dropped.map((id) => fs.rm(detailFile(dir, id), { force: true })))
    const priorRuns = async () => (await readHistory(file)).filter((r) => r.workflow === run.record.workflow).length - 1
    await recordDurations(dir, run.detail, priorRuns)
  })
}
