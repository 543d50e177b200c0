/**
 * The text of `weft history` and `weft report`: plain aligned tables, no
 * colour, so they read the same in a terminal, a CI log or a pasted issue.
 */
import type { HistoryRecord } from "../runtime/history/History.ts"
import type { RunDetail, StepDetail } from "../runtime/history/RunDetail.ts"
import { formatDuration } from "../runtime/Summary.ts"

/** Rows as columns padded to their widest cell; the last column is not padded. */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>, indent = ""): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => `${indent}${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")}`.trimEnd()).join("\n") + "\n"
}

const two = (n: number) => String(n).padStart(2, "0")

/** `2026-11-25 22:54:47`, local time; `-` for records from before weft kept the time. */
export const formatWhen = (epochMs: number): string => {
  if (!(epochMs > 0)) return "-"
  const d = new Date(epochMs)
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
}

/** `weft history`: the runs shown (oldest first, the newest last, nearest the prompt) of `total` recorded. */
export const renderHistory = (records: ReadonlyArray<HistoryRecord>, total: number): string => {
  const workflows = new Set(records.map((r) => r.workflow)).size > 1
  const header = ["", "run", ...(workflows ? ["workflow"] : []), "started", "status", "duration", "ran", "cached", "failed"]
  const rows = records.map((r, i) => [
    String(i - records.length),
    r.id,
    ...(workflows ? [r.workflow] : []),
    formatWhen(r.startedAt),
    r.status,
    formatDuration(r.durationMs),
    String(r.steps.ran ?? 0),
    String(r.steps.cached ?? 0),
    String(r.steps.failed ?? 0)
  ])
  const more = total > records.length ? `${records.length} of ${total} runs; --last N shows more. ` : ""
  return `${table([header, ...rows])}${more}\`weft report <run>\` shows a run's steps (-1: the last).\n`
}

const noteOf = (step: StepDetail): string => {
  if (step.error !== undefined) return step.error
  if (step.savedMs !== undefined && step.savedMs > 0) return `saved ${formatDuration(step.savedMs)}`
  return ""
}

/** `weft report`: one run, step by step, with its critical path and parallelism. */
export const renderReport = (d: RunDetail): string => {
  const head = `run ${d.id}: ${d.workflow} ${d.status} in ${formatDuration(d.durationMs)}, started ${formatWhen(d.startedAt)}${d.file === undefined ? "" : ` from ${d.file}`}\n\n`
  const rows = d.steps.map((s) => [
    s.id,
    s.status,
    s.startMs === undefined ? "-" : formatDuration(s.startMs),
    s.startMs === undefined && s.durationMs === 0 ? "-" : formatDuration(s.durationMs),
    String(s.attempts),
    noteOf(s)
  ])
  const steps = table([["step", "status", "start", "duration", "attempts", ""], ...rows], "  ")
  const busyMs = d.parallelism * d.durationMs
  const path = d.criticalPath.length === 0 ? "none" : `${d.criticalPath.join(" → ")} (${formatDuration(d.criticalPathMs)})`
  return `${head}${steps}\n  critical path: ${path}\n` +
    `  parallelism: ${d.parallelism.toFixed(2)} (${formatDuration(busyMs)} of step time in ${formatDuration(d.durationMs)}, concurrency ${d.concurrency})\n`
}
