/**
 * The selected step's recent output: its own lines only (each step has its
 * own ring of lines, so parallel steps never interleave), streamed parts
 * marked `▸`, its error in red once it failed. PgUp/PgDn scroll back through
 * the ring; the title says how far, and how many older lines were dropped.
 */
import { Box, Text } from "ink"
import { createElement as h } from "react"
import type { StepView } from "../model.ts"
import type { LineKind } from "../Ring.ts"
import type { Style, Theme } from "../theme.ts"

export interface LogPaneProps {
  readonly step: StepView | undefined
  /** Log lines to show under the title. */
  readonly height: number
  /** Lines scrolled back from the newest. */
  readonly scroll: number
  readonly width: number
  readonly theme: Theme
}

export const LogPane = ({ step, height, scroll, width, theme }: LogPaneProps) => {
  if (step === undefined) return null
  const facts = [step.status, `${step.lines.size} line${step.lines.size === 1 ? "" : "s"}`]
  if (scroll > 0) facts.push(`${scroll} back`)
  if (step.lines.dropped > 0) facts.push(`${step.lines.dropped} older dropped`)
  const title = `── ${step.id} · ${facts.join(" · ")} `
  const lines = step.lines.window(height, scroll)
  // A fixed height: the rows above do not jump as the selection moves between steps with more or fewer lines.
  return h(Box, { flexDirection: "column", height: height + 1, overflow: "hidden" },
    h(Text, { ...theme.dim, wrap: "truncate-end" }, title + "─".repeat(Math.max(0, width - title.length))),
    ...(lines.length === 0
      ? [h(Text, { key: "none", ...theme.dim }, step.status === "pending" || step.status === "ready" ? "  (not started)" : "  (no output)")]
      : lines.map((line, i) => h(Text, { key: i, ...style(line.kind, theme), wrap: "truncate-end" }, `${prefix[line.kind]}${line.text}`))))
}

const prefix: Record<LineKind, string> = { stdout: "  ", stderr: "  ", log: "  ", partial: "▸ ", error: "✗ ", note: "↻ " }

const style = (kind: LineKind, theme: Theme): Style =>
  kind === "error" ? theme.error : kind === "stderr" ? theme.warning : kind === "partial" ? theme.accent : kind === "note" ? theme.dim : {}
