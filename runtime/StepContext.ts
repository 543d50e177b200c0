/**
 * The `ctx` a function step receives: its id, the attempt, an abort signal,
 * and `log` / `progress` / `emit`, which become `step:log` / `step:progress` /
 * `step:partial` events.
 */
import type { StepContext } from "../dsl/Step.ts"
import { formatLines } from "./internal/consoleCapture.ts"
import { partText } from "./internal/partText.ts"
import type { StepRun } from "./Pipeline.ts"

/** The context for the current attempt of `step`. */
export const makeStepContext = (step: StepRun, signal: AbortSignal): StepContext => {
  // Per attempt, so a retry's parts count from 0 again and replace the failed attempt's.
  let index = 0
  return {
    stepId: step.id,
    attempt: step.attempt,
    signal,
    log: (...args) => {
      for (const text of formatLines(args)) step.report({ kind: "log", stream: "log", text })
    },
    progress: (done, total, message) => step.report({ kind: "progress", done, total, message }),
    emit: (part) => step.report({ kind: "partial", index: index++, text: partText(part) })
  }
}
