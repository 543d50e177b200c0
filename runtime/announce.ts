/** The announce feature: `step:start` right before the body runs, so it means the body really started. */
import * as Effect from "effect/Effect"
import type { Feature, Stage } from "./Pipeline.ts"

export const announcing: Stage = (step, next) =>
  Effect.suspend(() => {
    step.report({ type: "step:start", attempt: step.attempt })
    return next
  })

export const announce: Feature = { name: "announce", inner: true, setup: ({ options }) => ({ stage: options.executor.announces === true ? undefined : announcing }) }
