/**
 * The retry feature: a failed attempt runs again, `retry.times` times at
 * most, after an exponential backoff from `delay` (by `factor`, capped at
 * `maxDelay`), or longer when the failure says how long (`retryAfter`: see
 * `retryAfterMs`). Only failures are retried: a defect (weft's own bug, or
 * `Effect.die`) and an interruption end the step at once.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { describeError, shortError } from "./internal/describeError.ts"
import type { RetryPolicy } from "../dsl/retryOptions.ts"
import { retryAfterMs } from "./internal/retry.ts"
import type { Feature, Stage, StepRun } from "./Pipeline.ts"

declare module "./Pipeline.ts" {
  interface StepFeatures {
    /** The step's retry policy, when it retries at all. */
    retry?: RetryPolicy | undefined
  }
}

/**
 * The schedule of `step`'s retries under `policy`. Each retry is told
 * (`step:retry`, with the attempt that failed and the wait) as it is decided.
 */
export const retrySchedule = (step: StepRun, policy: RetryPolicy): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential(policy.delayMs, policy.factor).pipe(
    Schedule.setInputType<unknown>(),
    Schedule.modifyDelay(({ duration, input, now }) => {
      const backoffMs = Math.min(Duration.toMillis(duration), policy.maxDelayMs)
      const askedMs = retryAfterMs(input, now)
      return Effect.succeed(askedMs === undefined ? backoffMs : Math.max(backoffMs, askedMs))
    }),
    Schedule.while(({ attempt }) => attempt <= policy.times),
    Schedule.tap(({ input, duration }) =>
      Effect.sync(() => {
        const short = shortError(input, step.redact)
        const reason = describeError(input)
        step.report({ type: "step:retry", attempt: step.attempt, error: short, ...(reason === short ? {} : { reason }), delayMs: Duration.toMillis(duration) })
      })
    )
  )

/** Counts each attempt (`step.attempt`) and runs another while the schedule allows. */
export const retrying: Stage = (step, next) => {
  const attempt = Effect.suspend(() => {
    step.attempt++
    return next
  })
  const policy = step.features.retry
  // A single attempt's failure is the step's: there is nothing to catch.
  return policy === undefined || policy.times === 0 ? attempt : Effect.retry(attempt, retrySchedule(step, policy))
}

export const retry: Feature = {
  name: "retry",
  inner: true,
  setup: ({ plan }) => ({
    stage: retrying,
    prepare: plan.retry.some((policy) => policy.times > 0)
      ? (step) => {
        step.features.retry = plan.retry[step.index]
      }
      : undefined
  })
}
