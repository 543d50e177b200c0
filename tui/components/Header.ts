/**
 * The top two lines: what runs and how far it got. Line one: workflow, run
 * number, elapsed time, ETA, slots in use; line two: the overall progress bar
 * (steps ended of all steps) and what went wrong or was saved so far.
 */
import { Box, Text } from "ink"
import { createElement as h } from "react"
import { formatEta } from "../../runtime/forecast/index.ts"
import { bar, short } from "../format.ts"
import type { Model } from "../model.ts"
import type { Theme } from "../theme.ts"

export interface HeaderProps {
  readonly model: Model
  readonly now: number
  readonly width: number
  readonly theme: Theme
}

/** Slot limits this large mean "no limit" (the CLI's default for unlimited). */
const unlimited = 1_000_000

export const Header = ({ model, now, width, theme }: HeaderProps) => {
  if (model.phase === "loading") {
    return h(Box, { flexDirection: "column" },
      h(Text, { wrap: "truncate-end" }, h(Text, theme.accent, "weft ▸ "), model.file === undefined ? "loading…" : `${model.file} · loading…`),
      h(Text, theme.dim, " "))
  }
  const e = model.eta()
  const etaText = e === undefined ? undefined : formatEta(e)
  const commands = model.commandConcurrency < model.concurrency ? ` (commands ≤${model.commandConcurrency})` : ""
  const slots = `slots ${model.running.size}/${model.concurrency >= unlimited ? "∞" : model.concurrency}${commands}`
  const facts = [`run ${model.runNumber}`, short(now), ...(etaText === undefined ? [] : [etaText]), ...(model.phase === "running" ? [slots] : [])]
  const total = model.steps.length
  const counts = countsOf(model)
  const label = ` ${model.endedCount}/${total} steps${counts === "" ? "" : ` · ${counts}`}`
  const barWidth = Math.max(0, Math.min(40, width - label.length - 1))
  return h(Box, { flexDirection: "column" },
    h(Text, { wrap: "truncate-end" },
      h(Text, theme.accent, "weft ▸ "),
      h(Text, { bold: theme.color }, model.workflow),
      ` · ${facts.join(" · ")}`,
      model.permissionsOff ? h(Text, theme.warning, " · permissions off (--allow-all)") : "",
      status(model, theme)),
    h(Text, { wrap: "truncate-end" }, h(Text, theme.status(model.status === "failed" ? "failed" : "succeeded"), bar(total === 0 ? 1 : model.endedCount / total, barWidth)), label))
}

const status = (model: Model, theme: Theme) => {
  if (model.phase === "ended") {
    return h(Text, model.status === "succeeded" ? theme.ok : theme.error, model.status === "succeeded" ? "  ✓ succeeded" : `  ✗ ${model.status}`)
  }
  return model.interrupting ? h(Text, theme.warning, "  cancelling…") : ""
}

/** `2 failed · 3 cached`: only what is non-zero. */
const countsOf = ({ counts }: Model): string =>
  (["failed", "cached", "skipped", "cancelled"] as const).filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${k}`).join(" · ")
