/**
 * The rate limit feature: each attempt of a step with `rateLimit` waits for
 * its turn of that limit, and so does each real call of a memoized function
 * with one (`memoTurn`). The run's limiters are shared by name with the
 * sub-workflows its steps run.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { Feature, RunSetup, Stage } from "./Pipeline.ts"
import { stepRateLimitProblem } from "../dsl/rateLimitOptions.ts"
import { makeRateLimiters, type RateLimiter } from "./RateLimiter.ts"

declare module "./Pipeline.ts" {
  interface StepFeatures {
    /** Every limiter of the run, by name: a sub-workflow this step runs shares them. */
    limiters?: ReadonlyMap<string, RateLimiter> | undefined
    /**
     * The limit each attempt waits for, and how the step gets its concurrency
     * slot back after it gave it up to wait (reported `waiting` with
     * `releases`): it resumes once the run hands one over, ahead of steps not
     * yet started. Without `reclaim` (a step run outside a machine), a
     * waiting step keeps its slot.
     */
    rateLimit?: { readonly limiter: RateLimiter; readonly reclaim?: Effect.Effect<void> | undefined } | undefined
  }
}

/**
 * Waits for the step's rate limit before each attempt, announcing the wait
 * (`step:waiting`) when there is one. It runs inside the retries, so every
 * attempt counts against the limit, and outside the timeout, so the wait does
 * not. A step that must wait gives its concurrency slot back meanwhile, so
 * other steps use it, and gets one again before its start is counted: the
 * limit holds for starts that really happen then.
 */
export const rateLimiting: Stage = (step, next) => {
  const limit = step.features.rateLimit
  if (limit === undefined) return next
  const reason = `rate limit ${limit.limiter.name}`
  const reclaim = limit.reclaim
  if (reclaim === undefined) return Effect.andThen(limit.limiter.take(() => step.report({ type: "step:waiting", reason })), next)
  return Effect.andThen(limit.limiter.take(() => step.report({ type: "step:waiting", reason, releases: true }), reclaim), next)
}

/** What the rate limit feature gives the others: the run's limiters, and a memoized call's turn. */
export interface RunLimits {
  readonly limiters: ReadonlyMap<string, RateLimiter>
  /**
   * A memoized call's turn of its rate limit (`MemoScopeOptions.rateLimit`).
   * The steps it is made for keep their slots (they are running), and show
   * the wait, until it is `over`.
   */
  readonly memoTurn: (limit: string, name: string, steps: ReadonlyArray<string | undefined>) => Promise<void>
}

const memoTurnOf = (run: RunSetup, limiters: ReadonlyMap<string, RateLimiter>): RunLimits["memoTurn"] => (limit, name, steps) => {
  const { plan, now } = run
  const limiter = limiters.get(limit)
  if (limiter === undefined) {
    return Promise.reject(new Error(`memo("${name}"): ${stepRateLimitProblem(limit, plan.workflow.options.rateLimits)}`))
  }
  const indices = steps.flatMap((id) => {
    const i = id === undefined ? undefined : plan.indexOf.get(id)
    return i === undefined ? [] : [i]
  })
  const reason = `rate limit ${limit} (memo ${name})`
  let waited = false
  const tell = (over: boolean) => {
    for (const step of indices) run.send(over ? { type: "step:waiting", step, time: now(), reason, over } : { type: "step:waiting", step, time: now(), reason })
  }
  return new Promise<void>((resolve, reject) => {
    const settle = (exit: Exit.Exit<void>) => {
      if (waited) tell(true)
      if (Exit.isSuccess(exit)) resolve()
      else reject(new Error(`memo("${name}") stopped waiting for rate limit ${limit}: the run is ending`))
    }
    // In the run's scope: a turn still awaited when the run ends is interrupted with it.
    const fiber = run.fork(limiter.take(() => {
      waited = true
      tell(false)
    }))
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) return settle(exit)
    fiber.addObserver(settle)
  })
}

/** The step's slot back after a wait: asked for with `step:resume`, handed over by the run (`RunSetup.onResume`). */
const reclaimOf = (run: RunSetup, step: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const forget = run.onResume(step, () => resume(Effect.void))
    run.send({ type: "step:resume", step, time: run.now() })
    return Effect.sync(forget)
  })

export const rateLimit: Feature<RunLimits> = {
  name: "rateLimit",
  inner: true,
  setup: (run) => {
    const limiters = makeRateLimiters(run.plan.workflow.options.rateLimits, run.options.rateLimiters)
    return {
      stage: rateLimiting,
      prepare: limiters.size === 0 ? undefined : (step) => {
        step.features.limiters = limiters
        const limiter = step.def.rateLimit === undefined ? undefined : limiters.get(step.def.rateLimit)
        // Only a rate-limited step gives its slot back.
        if (limiter !== undefined) step.features.rateLimit = { limiter, reclaim: reclaimOf(run, step.index) }
      },
      provides: { limiters, memoTurn: memoTurnOf(run, limiters) }
    }
  }
}
