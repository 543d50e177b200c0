/**
 * `weft verify`'s progress as lines, for logs and CI: one now and then, not
 * one per run (a search of 200 schedules would bury the report), and one at
 * each finding, which is what a reader of a long log looks for.
 */
import type { VerifyProgress } from "../properties/index.ts"
import { shortDuration } from "../runtime/shortDuration.ts"

/** A line every this many schedules… */
export const everySchedules = 10
/** …or after this long without one, whichever comes first. */
export const everyMs = 2000

/** `verify: 20/50 schedules · 0 findings · ETA 4s`. */
export const progressLine = (p: VerifyProgress): string => {
  const findings = `${p.findings} finding${p.findings === 1 ? "" : "s"}`
  const eta = p.schedules >= p.schedulesTotal ? "" : ` · ETA ${shortDuration(p.etaMs)}`
  const found = p.finding === undefined ? "" : ` · found: ${p.finding.message}`
  return `verify: ${p.schedules}/${p.schedulesTotal} schedules · ${findings}${eta}${found}\n`
}

/** An `onProgress` that writes `progressLine`s at the pace above; `now` is injected for tests. */
export const plainProgress = (write: (text: string) => void, now: () => number = () => performance.now()) => {
  let lastSchedules = 0
  let lastAt = now()
  return (p: VerifyProgress): void => {
    const due = p.finding !== undefined || p.schedules - lastSchedules >= everySchedules || now() - lastAt >= everyMs
    if (!due) return
    lastSchedules = p.schedules
    lastAt = now()
    write(progressLine(p))
  }
}
