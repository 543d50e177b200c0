/**
 * The run's own stages as a fault run uses them: weft's retry stage with its
 * waits taken out (the promise checked is the number of attempts, and a
 * backoff of 1 s, 2 s, 4 s would make each injection cost seconds), and
 * weft's timeout stage with a short timeout on the step that hangs. Each
 * wraps weft's own stage, so what is checked is weft's code.
 */
import { defaultStages } from "../../../runtime/features.ts"
import type { Stage } from "../../../runtime/Pipeline.ts"
import { retrying } from "../../../runtime/retrying.ts"
import { timing } from "../../../runtime/timeout.ts"

/** How long an injected hang lasts before the step times out, unless its own timeout is shorter. */
export const injectedTimeoutMs = 200

// A stage reads the step's features when the pipeline is composed, just
// before it runs: setting them there, in the stage's place, is in time.
const withoutWaits: Stage = (step, next) => {
  const policy = step.features.retry
  if (policy !== undefined) step.features.retry = { ...policy, delayMs: 0, maxDelayMs: 0 }
  return retrying(step, next)
}

const timingOut = (stepId: string): Stage => (step, next) => {
  if (step.id === stepId) step.features.timeoutMs = Math.min(step.features.timeoutMs ?? injectedTimeoutMs, injectedTimeoutMs)
  return timing(step, next)
}

/** The stages of a fault run; `hangs`: the step given a short timeout, if any. */
export const faultStages = (hangs?: string | undefined): ReadonlyArray<Stage> =>
  defaultStages.map((stage) => (stage === retrying ? withoutWaits : stage === timing && hangs !== undefined ? timingOut(hangs) : stage))
