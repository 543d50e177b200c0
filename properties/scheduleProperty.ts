/**
 * `verify` as fast-check pieces, for people who draw their own inputs:
 * `schedules(wf)` draws schedules as `verify` does, `checkSchedule(wf, s)`
 * runs one and says what it shows, and `verifyProperty(inputs, make)` is the
 * whole property over workflows built from drawn inputs. fast-check then
 * shrinks both the input and the schedule, and its seed replays them.
 *
 * @example
 * await fc.assert(verifyProperty(fc.integer({ min: 1, max: 4 }), (shards) => pipeline(shards)), { numRuns: 30 })
 */
import * as fc from "fast-check"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Executor } from "../runtime/Executor.ts"
import * as Plan from "../runtime/Plan.ts"
import { makeRateLimiters, type RateLimiter } from "../runtime/RateLimiter.ts"
import type { Finding } from "./Finding.ts"
import { blame } from "./internal/blame.ts"
import { invariantFinding, invariantsBroken } from "./internal/invariantReport.ts"
import { observe, observeOptionsFor, type Observation } from "./internal/observe.ts"
import { orderFinding } from "./internal/orderReport.ts"
import { concurrencyLimit, plainSchedule, scheduleArbitrary, type Schedule } from "./internal/schedule.ts"

export interface ScheduleOptions {
  /** The most steps that may run at once (default: the workflow's `concurrency`, else its number of steps). */
  readonly concurrency?: number | undefined
  /** Only these steps and what they depend on (default: all). */
  readonly only?: ReadonlyArray<string> | undefined
}

export interface CheckScheduleOptions extends ScheduleOptions {
  /** The workflow's folder, copied afresh for every run (default: the current directory). */
  readonly cwd?: string | undefined
  /** Where bodies run (default: `localExecutor`). */
  readonly executor?: Executor | undefined
}

const limitOf = (wf: Workflow<any>, plan: Plan.Plan, options: ScheduleOptions): number =>
  concurrencyLimit(plan.ids.length, wf.options.concurrency, options.concurrency)

/**
 * Schedules for `wf`, as `verify` draws them: a concurrency from 1 to the
 * limit, priorities among ready steps, a few event-loop turns of delay
 * around each body. They shrink toward concurrency 1, declaration order and
 * no delays.
 *
 * @example
 * await fc.assert(fc.asyncProperty(schedules(wf), async (s) => expect(await checkSchedule(wf, s)).toEqual([])))
 */
export const schedules = (wf: Workflow<any>, options: ScheduleOptions = {}): fc.Arbitrary<Schedule> => {
  const plan = Plan.make(wf, { only: options.only })
  return scheduleArbitrary(plan.ids.length, limitOf(wf, plan, options))
}

// The plain run of a workflow, per folder: a property that checks many
// schedules of one workflow runs it plainly once.
const plainRuns = new WeakMap<Workflow<any>, Map<string, Promise<Observation>>>()
// One set of rate limiters per workflow, as in `verify`: the service a limit
// protects counts calls across the property's back-to-back runs.
const limiters = new WeakMap<Workflow<any>, ReadonlyMap<string, RateLimiter>>()
const limitersOf = (wf: Workflow<any>): ReadonlyMap<string, RateLimiter> => {
  let made = limiters.get(wf)
  if (made === undefined) limiters.set(wf, (made = makeRateLimiters(wf.options.rateLimits)))
  return made
}

/**
 * Runs `wf` under one schedule (in a throwaway copy of its folder, cache and
 * journal off) and resolves with what that run shows: each step whose
 * result differs from a plain run's (an order dependence, with the pair of
 * steps whose order flipped) and each of the workflow's invariants it broke,
 * or the plain run broke. Empty when the schedule changed nothing. A
 * schedule for more or fewer steps, or a higher concurrency, is cut to fit.
 * Findings have no `seed`: the caller's fast-check seed replays them.
 *
 * @example
 * expect(await checkSchedule(wf, { concurrency: 1, priority: [0, 1], delays: [[0, 0], [0, 0]] })).toEqual([])
 */
export const checkSchedule = async (wf: Workflow<any>, drawn: Schedule, options: CheckScheduleOptions = {}): Promise<Array<Finding>> => {
  const plan = Plan.make(wf, { only: options.only })
  const folder = options.cwd ?? process.cwd()
  const observeOptions = observeOptionsFor(wf, plan, { ...options, cwd: folder }, limitersOf(wf))
  const limit = limitOf(wf, plan, options)
  const plain = plainSchedule(plan.ids.length, limit)
  const schedule = fitted(drawn, plan.ids.length, limit)
  const runs = plainRuns.get(wf) ?? new Map<string, Promise<Observation>>()
  plainRuns.set(wf, runs)
  if (!runs.has(folder)) runs.set(folder, observe(wf, plain, observeOptions))
  const baseline = await runs.get(folder)!
  const observation = await observe(wf, schedule, observeOptions)

  const findings: Array<Finding> = []
  const blamed = blame(plan, baseline, observation)
  if (blamed !== undefined) findings.push(orderFinding(plan, blamed, undefined, [plain, schedule], [baseline, observation]))
  const plainBroken = await invariantsBroken(wf, baseline)
  for (const violation of plainBroken) findings.push(invariantFinding(violation))
  for (const violation of await invariantsBroken(wf, observation)) {
    if (!plainBroken.some((v) => v.invariant === violation.invariant)) findings.push(invariantFinding(violation, { schedule }))
  }
  return findings
}

/** Options of {@link verifyProperty}: those of `checkSchedule`, and how large a schedule to draw. */
export interface VerifyPropertyOptions extends CheckScheduleOptions {
  /** The most steps a drawn schedule orders and delays; later steps keep priority 0 and no delay (default 16). */
  readonly maxSteps?: number | undefined
}

/**
 * The property `verify` checks, over workflows built from your own drawn
 * inputs: for every input and schedule, `checkSchedule(make(input), schedule)`
 * finds nothing. Hand it to `fc.assert`; a failure names the shrunk input and
 * schedule and says what was found. Schedules are drawn apart from the input
 * (for `maxSteps` steps, cut to each workflow's size), so that fast-check
 * shrinks both: to the smallest input that still shows the bug.
 *
 * @example
 * it("every pipeline size keeps its promises", async () => {
 *   await fc.assert(verifyProperty(fc.integer({ min: 1, max: 4 }), (shards) => pipeline(shards)), { numRuns: 30 })
 * })
 */
export const verifyProperty = <T>(
  inputs: fc.Arbitrary<T>,
  make: (input: T) => Workflow<any>,
  options: VerifyPropertyOptions = {}
): fc.IAsyncPropertyWithHooks<[T, Schedule]> => {
  const most = options.maxSteps ?? 16
  return fc.asyncProperty(inputs, scheduleArbitrary(most, options.concurrency ?? most), async (input, schedule) => {
    const findings = await checkSchedule(make(input), schedule, options)
    if (findings.length > 0) throw new Error(findings.map((f) => `${f.message}\n  fix: ${f.fix}`).join("\n"))
  })
}

/** A schedule drawn for any number of steps, made to fit `steps` steps and a limit of `limit`. */
const fitted = (schedule: Schedule, steps: number, limit: number): Schedule => ({
  concurrency: Math.max(1, Math.min(schedule.concurrency, limit)),
  priority: schedule.priority.length === 0 ? [] : Array.from({ length: steps }, (_, i) => schedule.priority[i] ?? 0),
  delays: Array.from({ length: steps }, (_, i) => schedule.delays[i] ?? ([0, 0] as const))
})
