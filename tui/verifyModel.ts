/**
 * The `weft verify` dashboard's view model: `VerifyProgress` reports folded
 * into what the screen shows (the count, the bar's fraction, the ETA, the
 * findings so far). Pure, so it is tested without Ink; the component only
 * draws it.
 *
 * ```
 *  searching ──finish()──▶ done
 *      └─────finish(interrupted)──▶ interrupted
 * ```
 */
import { stepsOf, type Finding } from "../properties/Finding.ts"
import type { VerifyProgress } from "../properties/index.ts"

export type VerifyPhase = "searching" | "done" | "interrupted"

/** A finding as a line of the list: what it is and where. */
export interface FindingLine {
  readonly kind: Finding["kind"]
  readonly steps: ReadonlyArray<string>
  readonly message: string
}

export interface VerifyView {
  readonly workflow: string
  readonly phase: VerifyPhase
  readonly schedules: number
  readonly schedulesTotal: number
  readonly runs: number
  readonly etaMs: number | undefined
  readonly findings: ReadonlyArray<FindingLine>
}

export const initialVerifyView = (workflow: string, schedulesTotal: number): VerifyView => ({
  workflow,
  phase: "searching",
  schedules: 0,
  schedulesTotal,
  runs: 0,
  etaMs: undefined,
  findings: []
})

/** The view after one progress report; a report with a finding adds its line. */
export const applyProgress = (view: VerifyView, p: VerifyProgress): VerifyView => ({
  ...view,
  schedules: p.schedules,
  schedulesTotal: p.schedulesTotal,
  runs: p.runs,
  // No ETA before the first schedule: the pace is not known yet.
  etaMs: p.schedules === 0 ? undefined : p.etaMs,
  findings: p.finding === undefined ? view.findings : [...view.findings, { kind: p.finding.kind, steps: stepsOf(p.finding), message: p.finding.message }]
})

export const finishView = (view: VerifyView, interrupted: boolean): VerifyView => ({ ...view, phase: interrupted ? "interrupted" : "done", etaMs: undefined })

/** The bar's fill, 0 to 1: schedules tried of those to try (full once done). */
export const fractionDone = (view: VerifyView): number =>
  view.phase === "done" || view.schedulesTotal === 0 ? 1 : Math.min(1, view.schedules / view.schedulesTotal)
