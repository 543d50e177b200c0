/**
 * The step rows that fit (see `scroll.ts`): the selected and running rows
 * always among them, hidden runs of rows as `… N more` lines. Only these rows
 * are rendered, so a 500-step run costs what a 20-step one does.
 */
import { Box, Text } from "ink"
import { createElement as h } from "react"
import type { Model } from "../model.ts"
import { visibleRows } from "../scroll.ts"
import type { Theme } from "../theme.ts"
import { StepRow } from "./StepRow.ts"

export interface StepListProps {
  readonly model: Model
  readonly now: number
  /** Lines available. */
  readonly height: number
  readonly theme: Theme
}

export const StepList = ({ model, now, height, theme }: StepListProps) => {
  const running = [...model.running].map((s) => s.row)
  const lines = visibleRows(model.steps.length, height, model.selected, running)
  let previousLevel = -1
  return h(Box, { flexDirection: "column" },
    ...lines.map((line, i) => {
      if (typeof line !== "number") {
        previousLevel = -1
        return h(Text, { key: `more-${i}`, ...theme.dim, wrap: "truncate-end" }, `${" ".repeat(model.levelWidth + 3)}… ${line.more} more`)
      }
      const step = model.steps[line]!
      const showLevel = step.level !== previousLevel
      previousLevel = step.level
      return h(StepRow, { key: step.id, step, now, selected: line === model.selected, showLevel, idWidth: model.idWidth, levelWidth: model.levelWidth, theme })
    }))
}
