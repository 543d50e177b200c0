/** The timeout feature: an attempt that outlives the step's `timeout` is interrupted and fails. */
import * as Effect from "effect/Effect"
import type { Feature, Stage } from "./Pipeline.ts"

declare module "./Pipeline.ts" {
  interface StepFeatures {
    /** The step's `timeout` per attempt, when it has one. */
    timeoutMs?: number | undefined
  }
}

export const timing: Stage = (step, next) => {
  const ms = step.features.timeoutMs
  return ms === undefined
    ? next
    : Effect.timeoutOrElse(next, {
      duration: ms,
      orElse: () => Effect.fail(new Error(`timed out after ${formatMs(ms)}`))
    })
}

const formatMs = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${+(ms / 1000).toFixed(1)} s`)

export const timeout: Feature = {
  name: "timeout",
  inner: true,
  setup: ({ plan }) => ({
    stage: timing,
    prepare: plan.timeoutMs.some((ms) => ms !== undefined)
      ? (step) => {
        step.features.timeoutMs = plan.timeoutMs[step.index]
      }
      : undefined
  })
}
