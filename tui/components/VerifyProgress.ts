/**
 * `weft verify`'s live view: the workflow, schedules tried of all, the ETA,
 * a bar, and the findings as they come (the newest kept when they outgrow
 * the screen; the full report is printed after).
 */
import { Box, Text } from "ink"
import { createElement as h } from "react"
import { bar, short } from "../format.ts"
import type { Theme } from "../theme.ts"
import { fractionDone, type VerifyView } from "../verifyModel.ts"

export interface VerifyProgressProps {
  readonly view: VerifyView
  readonly width: number
  /** Lines the findings may take. */
  readonly height: number
  readonly theme: Theme
}

const phaseText = (view: VerifyView): string =>
  view.phase === "interrupted" ? "  ○ interrupted" : view.phase === "done" ? (view.findings.length === 0 ? "  ✓ nothing found" : "  ✗ found") : ""

export const VerifyProgress = ({ view, width, height, theme }: VerifyProgressProps) => {
  const count = `${view.schedules}/${view.schedulesTotal} schedules · ${view.findings.length} finding${view.findings.length === 1 ? "" : "s"}`
  const eta = view.etaMs === undefined ? "" : ` · ETA ${short(view.etaMs)}`
  const shown = view.findings.slice(-Math.max(0, height))
  return h(Box, { flexDirection: "column" },
    h(Text, { wrap: "truncate-end" },
      h(Text, theme.accent, "weft verify ▸ "),
      h(Text, { bold: theme.color }, view.workflow),
      h(Text, view.phase === "interrupted" ? theme.warning : view.findings.length === 0 ? theme.ok : theme.error, phaseText(view))),
    h(Text, { wrap: "truncate-end" }, bar(fractionDone(view), Math.max(0, Math.min(40, width - count.length - eta.length - 1))), ` ${count}${eta}`),
    ...shown.map((f, i) => h(Text, { key: i, wrap: "truncate-end" }, h(Text, theme.error, "✗ "), `${f.steps.join(", ")}: ${f.message}`)))
}
