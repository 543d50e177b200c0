/**
 * An `Executor` around another that holds each step's body back and its end
 * in, as a `Schedule` says, and records when each body really ran. The
 * scheduler is not changed: what it sees is steps that take longer.
 */
import * as Effect from "effect/Effect"
import type { Executor } from "../../runtime/Executor.ts"
import { turns, type Schedule } from "./schedule.ts"

/** When a step's body ran, as positions in one run's sequence of body starts and ends (ties cannot happen). */
export interface Interval {
  start: number
  end: number
}

export interface DelayingExecutor {
  readonly executor: Executor
  /** By step id: from the first attempt's start to the last attempt's end. */
  readonly intervals: ReadonlyMap<string, Interval>
}

export const makeDelayingExecutor = (inner: Executor, schedule: Schedule): DelayingExecutor => {
  const intervals = new Map<string, Interval>()
  let clock = 0
  const started = (id: string) => {
    const seen = intervals.get(id)
    if (seen === undefined) intervals.set(id, { start: clock++, end: Number.NaN })
  }
  const ended = (id: string) => {
    const seen = intervals.get(id)
    if (seen !== undefined) seen.end = clock++
  }
  const wait = (count: number) => (count <= 0 ? Effect.void : Effect.promise(() => turns(count)))
  const executor: Executor = {
    name: `${inner.name} (delayed)`,
    run: (step) => {
      const [before, after] = schedule.delays[step.index] ?? [0, 0]
      return wait(before).pipe(
        Effect.andThen(Effect.sync(() => started(step.id))),
        Effect.andThen(inner.run(step)),
        Effect.ensuring(Effect.sync(() => ended(step.id))),
        Effect.tap(() => wait(after))
      )
    }
  }
  return { executor, intervals }
}
