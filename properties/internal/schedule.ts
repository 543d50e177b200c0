/**
 * A schedule `verify` imposes on one run: how many steps may run at once,
 * and extra delays before each step's body starts and before its end is
 * reported. Drawn by fast-check, so it shrinks toward concurrency 1 and no
 * delays, and it is plain data, printable in a finding.
 */
import * as fc from "fast-check"

export interface Schedule {
  readonly concurrency: number
  /** Per step, in plan order: milliseconds before its body starts, and after it returns before its end is reported. */
  readonly delays: ReadonlyArray<readonly [before: number, after: number]>
}

/**
 * Delays up to 20 ms: enough to reorder bodies that start in the same tick
 * (a function step's synchronous writes), small enough that 50 runs of a
 * handful of steps stay within a few seconds.
 */
export const maxDelayMs = 20

/** The schedule a plain run has: every slot, no delays. */
export const plainSchedule = (steps: number, concurrency: number): Schedule => ({
  concurrency,
  delays: Array.from({ length: steps }, () => [0, 0] as const)
})

/** Schedules for a workflow of `steps` steps, with concurrency from 1 to `limit`. */
export const scheduleArbitrary = (steps: number, limit: number): fc.Arbitrary<Schedule> => {
  const delay = fc.integer({ min: 0, max: maxDelayMs })
  return fc.record({
    concurrency: fc.integer({ min: 1, max: Math.max(1, limit) }),
    delays: fc.array(fc.tuple(delay, delay), { minLength: steps, maxLength: steps })
  })
}
