/**
 * Rate limits shared by steps: at most `limit` attempt starts in any window of
 * `per`, for all the steps that name the limiter (`rateLimit: "openai"`),
 * however many run in parallel.
 *
 * The window slides (`RateWindow.ts`): over every interval of length `per`
 * there are never more than `limit` starts.
 *
 * A step waiting for its turn queues first in, first out, and reads the time
 * from Effect's `Clock` (so `TestClock` drives it). It waits without its
 * concurrency slot: see `rateLimiting` in `Pipeline.ts`.
 */
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"
import { suggestion } from "../dsl/didYouMean.ts"
import type { RateLimitOption } from "../dsl/Workflow.ts"
import { toMillis } from "./internal/duration.ts"
import { RateWindow } from "./RateWindow.ts"

export class RateLimiter {
  readonly name: string
  readonly limit: number
  readonly perMs: number
  readonly #window: RateWindow
  /** Fibers in or queued for the gate: while there are any, a newcomer queues behind them. */
  #queued = 0
  /** One waiter at a time watches the window, the rest queue in order behind it. */
  readonly #gate = Semaphore.makeUnsafe(1)

  constructor(name: string, limit: number, perMs: number) {
    this.name = name
    this.limit = limit
    this.perMs = perMs
    this.#window = new RateWindow(limit, perMs)
  }

  /**
   * Takes a start: at once when the window has room and nobody queues, else
   * after calling `onWait` once and waiting for its turn. When the window has
   * room for a waiter, it runs `reclaim` (the step gets its slot back) before
   * the start is counted, still at the head of the queue: the start counted
   * is the one that happens.
   */
  take(onWait: () => void, reclaim: Effect.Effect<void> = Effect.void): Effect.Effect<void> {
    return Effect.clockWith((clock) => {
      const now = clock.currentTimeMillisUnsafe()
      if (this.#queued === 0 && this.#window.waitAt(now) === 0) {
        this.#window.record(now)
        return Effect.void
      }
      onWait()
      this.#queued++
      const turn: Effect.Effect<void> = Effect.suspend(() => {
        const ms = this.#window.waitAt(clock.currentTimeMillisUnsafe())
        if (ms === 0) {
          // Nobody else counts a start meanwhile (they queue behind this one), so the window only gains room.
          return Effect.andThen(reclaim, Effect.sync(() => this.#window.record(clock.currentTimeMillisUnsafe())))
        }
        // Looks again after the sleep: the window is measured by the clock, not by the timer.
        return Effect.andThen(Effect.sleep(ms), turn)
      })
      return Effect.ensuring(this.#gate.withPermit(turn), Effect.sync(() => this.#queued--))
    })
  }
}

/**
 * The limiters of a workflow's `rateLimits` (already checked by the plan), by
 * name. A sub-workflow's run gets its enclosing run's limiters as `outer`:
 * a name both declare is the outer limiter, so one API's limit holds across
 * the two; outer limiters it does not declare pass through to its own
 * sub-workflows.
 */
export const makeRateLimiters = (
  options: Readonly<Record<string, RateLimitOption>> | undefined,
  outer?: ReadonlyMap<string, RateLimiter>
): Map<string, RateLimiter> => {
  const limiters = new Map<string, RateLimiter>(outer)
  for (const [name, option] of Object.entries(options ?? {})) {
    if (!limiters.has(name)) limiters.set(name, new RateLimiter(name, option.limit, toMillis(option.per)!))
  }
  return limiters
}

/** What is wrong with one of `rateLimits`, written for the workflow's author; `undefined` when nothing is. */
export const rateLimitProblem = (name: string, option: unknown): string | undefined => {
  const example = `rateLimits: { ${JSON.stringify(name)}: { limit: 3, per: "1 second" } }`
  if (typeof option !== "object" || option === null) return `rate limit "${name}" must be { limit, per }, like ${example}`
  const { limit, per } = option as { limit?: unknown; per?: unknown }
  if (!Number.isInteger(limit) || (limit as number) < 1) {
    return `rate limit "${name}": limit must be a whole number of at least 1 (starts per window), not ${JSON.stringify(limit)}, like ${example}`
  }
  const ms = toMillis(per)
  if (ms === undefined || !(ms > 0) || ms === Infinity) {
    return `rate limit "${name}": per must be a positive duration (milliseconds or a string like "1 second"), not ${JSON.stringify(per)}`
  }
  return undefined
}

/** Every problem of a workflow's `rateLimits` option. */
export const rateLimitsProblems = (option: unknown): Array<string> => {
  if (option === undefined) return []
  if (typeof option !== "object" || option === null || Array.isArray(option)) {
    return [`rateLimits must name each limit, like rateLimits: { openai: { limit: 3, per: "1 second" } }, not ${JSON.stringify(option)}`]
  }
  const problems: Array<string> = []
  for (const [name, limit] of Object.entries(option)) {
    const problem = rateLimitProblem(name, limit)
    if (problem !== undefined) problems.push(problem)
  }
  return problems
}

/** What is wrong with a step's `rateLimit`, given the workflow's `rateLimits`; `undefined` when nothing is. */
export const stepRateLimitProblem = (name: unknown, limits: unknown): string | undefined => {
  const names = typeof limits === "object" && limits !== null ? Object.keys(limits) : []
  if (typeof name !== "string") return `rateLimit must name one of the workflow's rateLimits, like rateLimit: "openai", not ${JSON.stringify(name)}`
  if (names.includes(name)) return undefined
  if (names.length === 0) {
    return `rateLimit "${name}", but the workflow has no rateLimits: declare it, like workflow("…", { rateLimits: { ${JSON.stringify(name)}: { limit: 3, per: "1 second" } } })`
  }
  return `rateLimit "${name}", which is not one of the workflow's rateLimits (${names.map((n) => JSON.stringify(n)).join(", ")}).${suggestion(name, names)}`
}
