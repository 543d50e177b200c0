/**
 * The `ctx` a function step receives: its id, the attempt, an abort signal,
 * and `log` / `progress`, which become `step:log` / `step:progress` events.
 */
import type { StepContext } from "../dsl/Step.ts"
import { formatLines } from "./internal/consoleCapture.ts"
import type { StepRun } from "./Pipeline.ts"

/** The context for the current attempt of `step`. */
export const makeStepContext = (step: StepRun, signal: AbortSignal): StepContext => ({
  stepId: step.id,
  attempt: step.attempt,
  signal,
  log: (...args) => {
    for (const text of formatLines(args)) step.report({ kind: "log", stream: "log", text })
  },
  progress: (done, total, message) => step.report({ kind: "progress", done, total, message })
})
