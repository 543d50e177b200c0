/**
 * The end of a run: its status and duration, the critical path, the achieved
 * parallelism and the time the cache and memoized calls saved. The figures
 * come from `SummaryBuilder`, as the plain reporter's do, so the two agree.
 */
import { Box, Text } from "ink"
import { createElement as h } from "react"
import { formatDuration, showsParallelism, type Summary } from "../../runtime/Summary.ts"
import { wrapWords } from "../format.ts"
import type { Theme } from "../theme.ts"

export interface SummaryPanelProps {
  readonly summary: Summary
  /** The run's id, for `weft report`. */
  readonly run: string | undefined
  /** Lines available: the rest are cut. */
  readonly height: number
  readonly width: number
  readonly theme: Theme
}

/** The panel's lines at `columns` wide, first the status line; a long critical path wraps rather than being cut. */
export const summaryLines = (s: Summary, run: string | undefined, columns: number): Array<string> => {
  const memoMs = Object.values(s.memo).reduce((sum, m) => sum + m.savedMs, 0)
  const cacheMs = s.savedMs - memoMs
  const by = [cacheMs > 0 ? `cache ${formatDuration(cacheMs)}` : "", memoMs > 0 ? `memo ${formatDuration(memoMs)}` : ""].filter((t) => t !== "")
  const memo = Object.entries(s.memo).map(([name, m]) => `${name} ${m.hits + m.coalesced}/${m.calls}`)
  const failed = s.steps.filter((l) => l.status === "failed" && l.optional !== true).map((l) => l.id)
  const optional = s.steps.filter((l) => l.status === "failed" && l.optional === true).map((l) => l.id)
  return [
    `${s.status === "succeeded" ? "✓" : "✗"} ${s.workflow} ${s.status} in ${formatDuration(s.durationMs)}${run === undefined ? "" : ` · run ${run}`}`,
    ...wrapWords(`  critical path: ${s.criticalPath.join(" → ") || "(none)"} (${formatDuration(s.criticalPathMs)})`, columns),
    ...(showsParallelism(s) ? [`  parallelism ${s.parallelism.toFixed(2)}× (busy step time / wall time)`] : []),
    ...(s.savedMs > 0 ? wrapWords(`  saved ${formatDuration(s.savedMs)}: ${by.join(", ")}${memo.length > 0 ? ` (memo answered ${memo.join(", ")})` : ""}`, columns) : []),
    ...(failed.length > 0 ? [`  failed: ${failed.join(", ")}`] : []),
    ...(optional.length > 0 ? [`  failed (optional): ${optional.join(", ")}`] : [])
  ]
}

export const SummaryPanel = ({ summary, run, height, width, theme }: SummaryPanelProps) => {
  const [first, ...rest] = summaryLines(summary, run, width).slice(0, height)
  return h(Box, { flexDirection: "column" },
    h(Text, { ...(summary.status === "succeeded" ? theme.ok : theme.error), wrap: "truncate-end" }, first),
    ...rest.map((line, i) => h(Text, { key: i, wrap: "truncate-end" }, line)))
}
