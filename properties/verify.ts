/**
 * `verify`: finds what makes a workflow's result depend on luck: steps whose
 * result changes with the order in which unordered steps happen to run,
 * found by running it under schedules that fast-check draws and shrinks.
 */
import * as fc from "fast-check"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Executor } from "../runtime/Executor.ts"
import * as Plan from "../runtime/Plan.ts"
import { makeRateLimiters } from "../runtime/RateLimiter.ts"
import type { Finding } from "./Finding.ts"
import type { Violation } from "../runtime/checkInvariants.ts"
import { withDownstream } from "../runtime/watch/affected.ts"
import { blame } from "./internal/blame.ts"
import { checkFaults } from "./internal/faults/checkFaults.ts"
import { invariantFinding, invariantNames, invariantsBroken } from "./internal/invariantReport.ts"
import { observe, observeOptionsFor, type Observation } from "./internal/observe.ts"
import { orderFinding, staticView } from "./internal/orderReport.ts"
import { concurrencyLimit, plainSchedule, scheduleArbitrary, type Schedule } from "./internal/schedule.ts"
import { traceFindings } from "./internal/tracing/index.ts"

export type { Schedule } from "./internal/schedule.ts"

export interface VerifyOptions {
  /** How many schedules to try (default 50). */
  readonly runs?: number | undefined
  /** The seed fast-check draws schedules from (default: random); a finding's `seed` replays the search. */
  readonly seed?: number | undefined
  /** The most steps that may run at once; each schedule draws from 1 to this (default: the workflow's `concurrency`, else its number of steps). */
  readonly concurrency?: number | undefined
  /** The workflow's folder, copied afresh for every run (default: the current directory). */
  readonly cwd?: string | undefined
  /** Where bodies run (default: `localExecutor`); the schedule's delays are added around it. */
  readonly executor?: Executor | undefined
  /** Verify only these steps and what they depend on (default: all). */
  readonly only?: ReadonlyArray<string> | undefined
  /**
   * Also inject faults, each in a run of its own (default false): a step
   * throws, a command gets SIGTERM, a step hangs until its timeout, the run
   * is interrupted and resumed; and check that the promises hold under them
   * (optional steps do not fail the run, retries run their attempts, nothing
   * is cached from a failed or interrupted step, no process is left behind,
   * finalizers run, a resumed run gives a clean run's results).
   */
  readonly faults?: boolean | undefined
  /**
   * Trace one plain run first (default true): which files each step read and
   * wrote, commands under strace and function steps through `node:fs`, for
   * hazards and cache declarations found in that one run, whatever the
   * schedules show. Its findings come first.
   */
  readonly trace?: boolean | undefined
  /**
   * Told what verify could not check, and why (strace cannot run here, a
   * step it cannot see into): the search goes on without it. Default: a
   * process warning (`process.emitWarning`).
   */
  readonly onWarning?: ((text: string) => void) | undefined
  /** Called as the search goes: after each run, and when a finding is made. */
  readonly onProgress?: ((progress: VerifyProgress) => void) | undefined
  /**
   * Stops the search when aborted: the running run is cancelled (its
   * processes torn down) and its result ignored, and `verify` resolves with
   * the findings made so far.
   */
  readonly signal?: AbortSignal | undefined
}

/** How far `verify` has got. */
export interface VerifyProgress {
  /** Runs of the workflow done so far, the plain one, drawn schedules and shrinking included. */
  readonly runs: number
  /** Drawn schedules tried so far, of `schedulesTotal`. */
  readonly schedules: number
  readonly schedulesTotal: number
  /** Findings so far. */
  readonly findings: number
  /** Milliseconds left at the pace so far, if the search finds nothing more (shrinking a finding takes longer). */
  readonly etaMs: number
  /** The newest finding, when this call reports one. */
  readonly finding?: Finding | undefined
}

/**
 * Traces one plain run for hazards and cache declarations (`trace`), runs
 * the workflow once plainly, then under `runs` schedules drawn by
 * fast-check (a concurrency from 1 to the limit, priorities among ready
 * steps, and a few event-loop turns of delay around each body), each in a
 * throwaway copy of its folder with the cache and journal off, and compares
 * every step's value, status and declared output files with the plain run's.
 * Resolves with the findings: empty when every schedule gave the same
 * results; else each difference found, shrunk to the smallest schedule that
 * still shows it, the steps it changed set aside so that the next one is a
 * different difference. The workflow's `invariants` are checked on every
 * run, the plain one included: each that breaks is reported once, under the
 * smallest schedule that still breaks it. Rejects with a `DefinitionError`
 * when the workflow cannot run (or an invariant names a step it lacks).
 *
 * Function steps' relative paths resolve in the copy: the process's working
 * folder is the copy's while each run lasts. Calls made at once take turns,
 * run by run.
 *
 * @example
 * expect(await verify(wf, { runs: 100 })).toEqual([])
 */
export const verify = async (wf: Workflow<any>, options: VerifyOptions = {}): Promise<Array<Finding>> => {
  const plan = Plan.make(wf, { only: options.only })
  const steps = plan.ids.length
  const limit = concurrencyLimit(steps, wf.options.concurrency, options.concurrency)
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff)
  const total = options.runs ?? 50
  const findings: Array<Finding> = []
  const begun = performance.now()
  let runs = 0
  let schedules = 0
  const progress = (finding?: Finding) => {
    // Each schedule left costs a run at the pace so far; none is known before the first.
    const perRun = schedules === 0 ? 0 : (performance.now() - begun) / runs
    options.onProgress?.({ runs, schedules, schedulesTotal: total, findings: findings.length, etaMs: Math.round(perRun * (total - schedules)), finding })
  }
  const observeOptions = observeOptionsFor(wf, plan, options, makeRateLimiters(wf.options.rateLimits))
  const observed = async (schedule: Schedule): Promise<Observation> => {
    const observation = await observe(wf, schedule, observeOptions)
    runs++
    progress()
    return observation
  }
  const found = (finding: Finding) => {
    findings.push(finding)
    progress(finding)
  }

  const warn = options.onWarning ?? ((text: string) => process.emitWarning(text, "WeftVerifyWarning"))
  const baselineSchedule = plainSchedule(steps, limit)
  // Pairs already reported: the schedules do not report them again.
  const reported = new Set<string>()
  if (options.trace ?? true) {
    const traced = await traceFindings(wf, plan, baselineSchedule, observeOptions)
    runs++
    progress()
    for (const warning of traced.warnings) warn(warning)
    for (const finding of traced.findings) {
      if (finding.kind !== "hazard") {
        found(finding)
        continue
      }
      found({ ...finding, declared: staticView(plan, finding.pair) })
      // A traced hazard is the order dependence the schedules would find, found for certain.
      reported.add(pairKey([plan.indexOf.get(finding.pair[0])!, plan.indexOf.get(finding.pair[1])!]))
    }
  }
  const baseline = await observed(baselineSchedule)
  const aborted = () => options.signal?.aborted === true
  const failed = failedSteps(baseline)
  if (failed.length > 0 && !aborted()) {
    warn(`the plain run failed (${failed.join("; ")}): every schedule is compared with it, failures included, but steps after them did not run, so they were not checked`)
  }

  // Invariants the plain run broke are reported as such, without a schedule.
  const brokenInvariants = new Set<string>()
  for (const violation of await invariantsBroken(wf, baseline)) {
    brokenInvariants.add(violation.invariant)
    found(invariantFinding(violation))
  }
  const unreported = () => invariantNames(wf).some((name) => !brokenInvariants.has(name))
  const ignored = new Set<number>()
  // Every run so far: what blame weighs a pair's flips against.
  const history: Array<Observation> = [baseline]

  // A schedule fails for an order dependence (a changed result) or a broken
  // invariant not yet reported. While shrinking, a smaller schedule counts
  // only when it fails the same way: the same kind, the same invariant.
  const failureOf = async (schedule: Schedule, seen: Observation, seeking: Failure | undefined): Promise<Failure | undefined> => {
    if (seeking?.kind !== "invariant") {
      if (blame(plan, baseline, seen, ignored, []) !== undefined) return { kind: "order", schedule, seen }
      if (seeking !== undefined) return undefined
    }
    if (!unreported()) return undefined
    const violation = (await invariantsBroken(wf, seen)).find((v) => (seeking === undefined ? !brokenInvariants.has(v.invariant) : v.invariant === seeking.violation.invariant))
    return violation === undefined ? undefined : { kind: "invariant", schedule, violation }
  }

  // One search after another, each on what the earlier ones left to find,
  // until the runs are spent. A step that changed is set aside with
  // everything after it: they would show the same cause again.
  for (let round = 0; schedules < total && (ignored.size < steps || unreported()) && !aborted(); round++) {
    let last: Failure | undefined
    let tried = 0
    // The last failing call is the shrunk counterexample: fast-check only
    // moves on to a smaller schedule when that one fails too.
    const property = fc.asyncProperty(scheduleArbitrary(steps, limit), async (schedule) => {
      // Once aborted, every call passes at once: fast-check's remaining draws
      // cost nothing, and a run cut short is no evidence of a difference.
      if (aborted()) return true
      const shrinking = last !== undefined
      if (!shrinking) {
        tried++
        schedules++
      }
      const seen = await observed(schedule)
      if (aborted()) return true
      history.push(seen)
      const failure = await failureOf(schedule, seen, last)
      if (failure !== undefined) last = failure
      return failure === undefined
    })
    const details = await fc.check(property, { numRuns: total - schedules, seed: seed + round })
    if (!details.failed || last === undefined) {
      if (details.errorInstance !== null && details.errorInstance !== undefined) throw details.errorInstance
      break
    }
    if (last.kind === "invariant") {
      brokenInvariants.add(last.violation.invariant)
      found(invariantFinding(last.violation, { seed, schedule: last.schedule }))
    } else {
      // The pair is chosen once the search is over, weighed against every run
      // it made (shrinking included), not against the few seen when it failed.
      const blamed = blame(plan, baseline, last.seen, ignored, history)!
      for (const id of withDownstream(plan, [plan.ids[blamed.step]!])) ignored.add(plan.indexOf.get(id)!)
      // A pair already reported (by tracing, or an earlier round through
      // another step) is the same cause: its step is set aside, not reported twice.
      if (blamed.pair === undefined || !reported.has(pairKey(blamed.pair))) {
        found(orderFinding(plan, blamed, seed, [baselineSchedule, last.schedule], [baseline, last.seen]))
        if (blamed.pair !== undefined) reported.add(pairKey(blamed.pair))
      }
    }
    if (tried === 0) break
  }
  if (options.faults === true && !aborted()) {
    const settings = { ...observeOptions, seed, custom: options.executor?.name, onRun: () => void (runs++, progress()), onWarning: warn }
    for (const finding of await checkFaults(wf, plan, baseline, settings)) found(finding)
  }
  return findings
}

/** The steps that failed in a run, each with its error's first line. */
const failedSteps = (observation: Observation): Array<string> =>
  observation.events.flatMap((e) => (e.type === "step:end" && e.status === "failed" ? [`step "${e.step}": ${(e.error ?? "failed").split("\n")[0]}`] : []))

const pairKey = (pair: readonly [number, number]): string => (pair[0] < pair[1] ? `${pair[0]} ${pair[1]}` : `${pair[1]} ${pair[0]}`)

/** Why a schedule failed: what `verify` reports, once shrunk. */
type Failure =
  | { readonly kind: "order"; readonly schedule: Schedule; readonly seen: Observation }
  | { readonly kind: "invariant"; readonly schedule: Schedule; readonly violation: Violation }
