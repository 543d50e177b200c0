/**
 * Run history at 500 steps: what `weft run` adds before the run (reading the
 * steps' estimates and the run number) and after it (recording the run, its
 * report and its durations, with 200 runs already kept). The in-run baseline
 * is reading and parsing a file of the same size, the least a lookup can do.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { nextRunNumber, readDurations } from "../runtime/history/durations.ts"
import { maxRecords, type HistoryRecord } from "../runtime/history/History.ts"
import { recordRun } from "../runtime/history/recordRun.ts"
import type { RunDetail } from "../runtime/history/RunDetail.ts"
import { fmt, median, timeRuns } from "./stats.ts"

export interface HistoryBenchOptions {
  readonly steps?: number
  readonly repeats?: number
}

const runOf = (id: string, steps: number): { record: HistoryRecord; detail: RunDetail } => ({
  record: { id, workflow: "bench", status: "succeeded", startedAt: Date.now(), durationMs: 1000, steps: { ran: steps, succeeded: steps }, savedMs: 0, memo: {} },
  detail: {
    id, workflow: "bench", status: "succeeded", startedAt: Date.now(), durationMs: 1000, concurrency: 8,
    steps: Array.from({ length: steps }, (_, i) => ({ id: `package-${i}:build`, status: "succeeded", startMs: i, durationMs: 100 + (i % 37), attempts: 1, cached: false })),
    criticalPath: [], criticalPathMs: 0, parallelism: 1, savedMs: 0
  }
})

export const main = async (options: HistoryBenchOptions = {}): Promise<void> => {
  const steps = options.steps ?? 500
  const repeats = options.repeats ?? 20
  const say = (text: string) => process.stdout.write(`${text}\n`)
  const root = mkdtempSync(path.join(tmpdir(), "weft-bench-history-"))
  // History lives in weft's folder (`.weft/`), which the history functions take.
  const weftDir = path.join(root, ".weft")
  try {
    for (let i = 0; i < maxRecords; i++) await recordRun(weftDir, runOf(`r${String(i).padStart(4, "0")}`, steps))
    const file = path.join(root, ".weft", "history", "steps", "bench.json")
    await readDurations(weftDir, "bench")
    const read = await timeRuns(() => readDurations(weftDir, "bench"), repeats)
    const number = await timeRuns(() => nextRunNumber(weftDir, "bench"), repeats)
    const baseline = await timeRuns(() => JSON.parse(readFileSync(file, "utf8")), repeats)
    let n = maxRecords
    const record = await timeRuns(() => recordRun(weftDir, runOf(`s${n++}`, steps)), repeats)
    say(`history, ${steps} steps, ${maxRecords} runs kept (median of ${repeats})`)
    say(`  read estimates   ${fmt(median(read))} ms   (baseline: read and parse the file, ${fmt(median(baseline))} ms)`)
    say(`  next run number  ${fmt(median(number))} ms`)
    say(`  record a run     ${fmt(median(record))} ms   (record, report, durations; under the lock)`)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (import.meta.main) await main()
