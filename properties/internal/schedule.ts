/**
 * A schedule `verify` imposes on one run: how many steps may run at once,
 * which ready step goes first, and extra delays before each step's body
 * starts and before its end is reported. Drawn by fast-check, so it shrinks
 * toward concurrency 1, declaration order and no delays, and it is plain
 * data, printable in a finding.
 */
import * as fc from "fast-check"

export interface Schedule {
  readonly concurrency: number
  /** Per step, in plan order: its priority among ready steps (higher first, ties by declaration order). */
  readonly priority: ReadonlyArray<number>
  /**
   * Per step, in plan order: event-loop turns before its body starts, and
   * after it returns before its end is reported. Turns, not milliseconds:
   * a turn lets every callback and timer that is due run, which is what
   * reorders bodies that start together, and 20 of them cost well under a
   * millisecond, so 50 schedules cost little more than 50 plain runs.
   * Orders that need more time between two steps come from the priorities
   * and the concurrency (at 1, any order the graph allows).
   */
  readonly delays: ReadonlyArray<readonly [before: number, after: number]>
}

/** The most turns a step is held back, before its body or before its end. */
export const maxDelay = 20

/** The schedule of a plain run: `concurrency` slots, the plan's own priorities, no delays. */
export const plainSchedule = (steps: number, concurrency: number): Schedule => ({
  concurrency,
  priority: [],
  delays: Array.from({ length: steps }, () => [0, 0] as const)
})

/** Whether a schedule keeps the plan's own priorities (the plain one does). */
export const keepsPlanPriority = (schedule: Schedule): boolean => schedule.priority.length === 0

/** The most steps a schedule may run at once: the caller's, else the workflow's `concurrency`, else all of them. */
export const concurrencyLimit = (steps: number, workflow: number | undefined, given: number | undefined): number => given ?? workflow ?? steps

/** Schedules for a workflow of `steps` steps, with concurrency from 1 to `limit`. */
export const scheduleArbitrary = (steps: number, limit: number): fc.Arbitrary<Schedule> => {
  const delay = fc.integer({ min: 0, max: maxDelay })
  return fc.record({
    concurrency: fc.integer({ min: 1, max: Math.max(1, limit) }),
    priority: fc.array(fc.integer({ min: 0, max: Math.max(1, steps) }), { minLength: steps, maxLength: steps }),
    delays: fc.array(fc.tuple(delay, delay), { minLength: steps, maxLength: steps })
  })
}

/** Waits `turns` turns of the event loop. */
export const turns = (count: number): Promise<void> =>
  count <= 0 ? Promise.resolve() : new Promise((resolve) => setImmediate(() => void turns(count - 1).then(resolve)))
