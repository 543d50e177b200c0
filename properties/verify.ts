/**
 * `verify`: finds the steps of a workflow whose result depends on the order
 * in which unordered steps happen to run, by running it under schedules that
 * fast-check draws and shrinks.
 */
import * as fc from "fast-check"
import { declaredOutputs } from "../dsl/cacheOptions.ts"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Executor } from "../runtime/Executor.ts"
import { localExecutor } from "../runtime/executors/local.ts"
import * as Plan from "../runtime/Plan.ts"
import { blame } from "./internal/blame.ts"
import { observe, type Observation } from "./internal/observe.ts"
import { plainSchedule, scheduleArbitrary, type Schedule } from "./internal/schedule.ts"

export type { Schedule } from "./internal/schedule.ts"

export interface VerifyOptions {
  /** How many schedules to try (default 50). */
  readonly runs?: number | undefined
  /** The seed fast-check draws schedules from (default: random); a finding's `seed` replays it. */
  readonly seed?: number | undefined
  /** The most steps that may run at once; each schedule draws from 1 to this (default: the workflow's `concurrency`, else its number of steps). */
  readonly concurrency?: number | undefined
  /** The workflow's folder, copied afresh for every run (default: the current directory). */
  readonly cwd?: string | undefined
  /** Where bodies run (default: `localExecutor`); the schedule's delays are added around it. */
  readonly executor?: Executor | undefined
}

/** A step whose result changed with the schedule. */
export interface Finding {
  readonly kind: "order-dependence"
  /** The first step, in plan order, whose value or declared output files differed. */
  readonly step: string
  /** Two steps with no order between them whose relative order flipped between the two runs; absent when none did. */
  readonly pair?: readonly [string, string] | undefined
  /** Replays the search: `verify(wf, { seed })`. */
  readonly seed: number
  /** The plain schedule (every slot, no delays) and the smallest drawn one that gave a different result. */
  readonly schedules: readonly [Schedule, Schedule]
  /** What to add to the workflow so that the result no longer depends on the schedule. */
  readonly fix: string
}

const fixFor = (step: string, pair: readonly [string, string] | undefined): string => {
  if (pair === undefined) {
    return `step "${step}" gave different results under different schedules, but no two unordered steps swapped: its result depends on timing (a clock, a random number, the network); make it deterministic.`
  }
  // The changed step in the pair waits for the other (it reads what the other
  // writes); otherwise the later-declared one waits for the earlier.
  const [waiter, first] = pair[0] === step ? pair : [pair[1], pair[0]]
  return `add after: ["${first}"] to step "${waiter}", so that it always runs after "${first}" (they have no order between them, and "${step}" changed when their order did).`
}

/**
 * Runs the workflow under `runs` schedules drawn by fast-check (a
 * concurrency from 1 to the limit, and delays of 0-20 ms before each step's
 * body and before its end), each in a throwaway copy of its folder with the
 * cache and journal off, and compares every step's value and declared output
 * files with a plain run's. Resolves with the findings: empty when every
 * schedule gave the same results; else the first difference found, shrunk to
 * the smallest schedule that still shows it. Rejects with a `DefinitionError`
 * when the workflow cannot run.
 *
 * Function steps' relative paths resolve in the copy: the process's working
 * folder is the copy's while each run lasts, so call it from one place at a time.
 *
 * @example
 * expect(await verify(wf, { runs: 100 })).toEqual([])
 */
export const verify = async (wf: Workflow<any>, options: VerifyOptions = {}): Promise<Array<Finding>> => {
  const plan = Plan.make(wf)
  const steps = plan.ids.length
  const limit = options.concurrency ?? wf.options.concurrency ?? steps
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff)
  const outputs = new Map(plan.steps.map((s) => [s.id, declaredOutputs(s.cache, wf.options.cache)]))
  const observeOptions = { folder: options.cwd ?? process.cwd(), executor: options.executor ?? localExecutor, outputs }
  const baselineSchedule = plainSchedule(steps, limit)
  const baseline: Observation = await observe(wf, baselineSchedule, observeOptions)
  // The last failing call is the shrunk counterexample: fast-check only
  // moves on to a smaller schedule when that one fails too.
  let last: { readonly schedule: Schedule; readonly step: string; readonly pair?: readonly [string, string] | undefined } | undefined
  const property = fc.asyncProperty(scheduleArbitrary(steps, limit), async (schedule) => {
    const found = blame(plan, baseline, await observe(wf, schedule, observeOptions))
    if (found !== undefined) last = { schedule, ...found }
    return found === undefined
  })
  const details = await fc.check(property, { numRuns: options.runs ?? 50, seed })
  if (!details.failed || last === undefined) {
    if (details.errorInstance !== null && details.errorInstance !== undefined) throw details.errorInstance
    return []
  }
  return [{ kind: "order-dependence", step: last.step, pair: last.pair, seed, schedules: [baselineSchedule, last.schedule], fix: fixFor(last.step, last.pair) }]
}
