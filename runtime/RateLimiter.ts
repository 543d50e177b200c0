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
import type { RateLimitOption } from "../dsl/Workflow.ts"
import { toMillis } from "../dsl/duration.ts"
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
