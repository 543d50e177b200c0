/**
 * The whole screen, drawn from the model at run time `now`. It shares the
 * terminal's rows out (`screen.ts`), follows resizes (`useWindowSize`), and
 * turns key presses into actions for the dashboard (`keys.ts`); keys are read
 * only where the terminal can give them one at a time (raw mode).
 */
import { Box, useInput, useStdin, useWindowSize } from "ink"
import { createElement as h } from "react"
import { keyAction, type KeyAction } from "../keys.ts"
import type { Model } from "../model.ts"
import { screen } from "../screen.ts"
import type { Theme } from "../theme.ts"
import { bannerLines, type BannerLine } from "../watchBanner.ts"
import { Banner } from "./Banner.ts"
import { Footer } from "./Footer.ts"
import { Header } from "./Header.ts"
import { LogPane } from "./LogPane.ts"
import { StepList } from "./StepList.ts"
import { SummaryPanel, summaryLines } from "./SummaryPanel.ts"

export interface AppProps {
  readonly model: Model
  /** Run time of this frame. */
  readonly now: number
  readonly theme: Theme
  /** Watch mode: its keys work and show. */
  readonly watching: boolean
  /** The last frame of a run outside watch mode: no keys any more. */
  readonly final: boolean
  /** A key's action; `page` is the log pane's height, PgUp/PgDn's step. */
  readonly onKey: (action: KeyAction, page: number) => void
}

export const App = ({ model, now, theme, watching, final, onKey }: AppProps) => {
  const { columns, rows } = useWindowSize()
  const { isRawModeSupported } = useStdin()
  const banner: Array<BannerLine> = [...bannerLines(model.watch), ...model.warnings.map((text) => ({ tone: "warning" as const, text: `⚠ ${text}` }))]
  const summary = model.summary
  const selected = model.selectedStep()
  const parts = screen({
    rows,
    steps: model.steps.length,
    keep: model.running.size + 1,
    banner: banner.length,
    summary: summary === undefined ? 0 : summaryLines(summary, model.run, columns).length,
    footer: final ? 0 : 1,
    expanded: model.expanded,
    // What stays on screen after the run: the rows and the summary, and a failed step's error.
    paneCap: final ? (selected?.status === "failed" ? Math.min(selected.lines.size, 8) : 0) : undefined
  })
  useInput((input, key) => {
    const action = keyAction(input, key, watching)
    if (action !== undefined) onKey(action, Math.max(1, parts.pane - 1))
  }, { isActive: isRawModeSupported && !final })
  return h(Box, { flexDirection: "column", width: columns },
    h(Header, { model, now, width: columns, theme }),
    h(Banner, { lines: banner, height: parts.banner, theme }),
    model.phase === "loading" ? null : h(StepList, { model, now, height: parts.list, theme }),
    parts.pane > 0 ? h(LogPane, { step: selected, height: parts.pane, scroll: model.scroll, width: columns, theme }) : null,
    summary !== undefined && parts.summary > 0 ? h(SummaryPanel, { summary, run: model.run, height: parts.summary, width: columns, theme }) : null,
    parts.footer > 0 ? h(Footer, { watching, theme }) : null)
}

