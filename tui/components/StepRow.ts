/**
 * One step on one line: selection mark, level (on the first row of a level
 * group), status icon (the shared spinner while running), id (`*` marks the
 * critical path when there is no colour to), duration (elapsed while running,
 * "of ~X" when an estimate exists), then its progress bar and message,
 * badges (attempt, worker, retrying, waiting, cached, memo) and its error or newest log line.
 * The line is cut, never wrapped, so a row is always one line.
 */
import { Text } from "ink"
import { createElement as h, type ReactNode } from "react"
import { bar, clip, short, spinner } from "../format.ts"
import { lastLine, type StepView } from "../model.ts"
import type { Theme } from "../theme.ts"

export interface StepRowProps {
  readonly step: StepView
  readonly now: number
  readonly selected: boolean
  /** Show the step's level (first row of its group on screen). */
  readonly showLevel: boolean
  readonly idWidth: number
  readonly levelWidth: number
  readonly theme: Theme
}

const icons = { pending: "·", ready: "○", succeeded: "✓", cached: "✓", failed: "✗", skipped: "-", cancelled: "⊘" } as const

export const StepRow = ({ step, now, selected, showLevel, idWidth, levelWidth, theme }: StepRowProps) => {
  const icon = step.status === "running" ? spinner(now) : icons[step.status]
  const id = clip(step.id, idWidth)
  const mark = step.critical && !theme.color ? "*" : " "
  const idStyle = selected ? theme.selected : step.critical ? theme.critical : {}
  const parts: Array<ReactNode> = [
    selected ? "› " : "  ",
    showLevel ? String(step.level).padStart(levelWidth) : " ".repeat(levelWidth),
    " ",
    h(Text, theme.status(step.status), icon),
    " ",
    h(Text, idStyle, id),
    mark,
    " ".repeat(idWidth - id.length + 1),
    h(Text, step.status === "running" ? {} : theme.dim, duration(step, now).padEnd(15))
  ]
  const p = step.progress
  if (p !== undefined && step.status === "running") {
    parts.push(" ", h(Text, theme.status("running"), p.total === undefined ? "" : `${bar(p.done / p.total, 10)} `), p.total === undefined ? `${p.done}` : `${p.done}/${p.total}`)
    if (p.message !== undefined) parts.push(` ${p.message}`)
  }
  for (const badge of badges(step)) parts.push(" ", h(Text, theme.accent, `[${badge}]`))
  const detail = step.status === "failed" && step.error !== undefined ? step.error.split("\n")[0]! : lastLine(step)?.text
  if (detail !== undefined && detail !== "") parts.push("  ", h(Text, step.status === "failed" ? theme.error : theme.dim, detail))
  return h(Text, { wrap: "truncate-end" }, ...parts)
}

/** `1.2s of ~3s` while running, the duration once ended, `~3s` before it starts when estimated. */
const duration = (step: StepView, now: number): string => {
  const est = step.estimateMs === undefined ? "" : `~${short(step.estimateMs)}`
  if (step.status === "running") return `${short(now - (step.startedAt ?? now))}${est === "" ? "" : ` of ${est}`}`
  if (step.durationMs !== undefined && step.startedAt !== undefined) return short(step.durationMs)
  return step.status === "pending" || step.status === "ready" ? est : ""
}

const badges = (step: StepView): Array<string> => {
  const out: Array<string> = []
  if (step.attempt > 1) out.push(`attempt ${step.attempt}`)
  if (step.worker !== undefined) out.push(`on ${step.worker}`)
  if (step.retrying) out.push("retrying")
  if (step.waiting !== undefined) out.push(`waiting: ${step.waiting}`)
  if (step.status === "failed" && step.optional) out.push("optional")
  if (step.status === "cached") out.push(step.savedMs > 0 ? `cached, saved ${short(step.savedMs)}` : "cached")
  if (step.memoHits > 0) out.push(`memo ${step.memoHits}`)
  return out
}
