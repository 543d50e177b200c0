/**
 * One run of a workflow under a schedule, in a throwaway copy of its folder,
 * reduced to what `verify` compares: each step's outcome (its status and a
 * digest of its value and of its declared output files) and when its body ran.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { inspect } from "node:util"
import type { Workflow } from "../../dsl/Workflow.ts"
import { canonicalHash } from "../../runtime/cache/canonical.ts"
import type { Event } from "../../runtime/Event.ts"
import { declaredOutputs } from "../../dsl/cacheOptions.ts"
import type { Executor } from "../../runtime/Executor.ts"
import { localExecutor } from "../../runtime/executors/local.ts"
import type { Plan } from "../../runtime/Plan.ts"
import type { RateLimiter } from "../../runtime/RateLimiter.ts"
import { run } from "../../runtime/Run.ts"
import type { RunResult } from "../../runtime/RunState.ts"
import { makeDelayingExecutor, type Interval } from "./delayingExecutor.ts"
import { keepsPlanPriority, type Schedule } from "./schedule.ts"
import { inFolder } from "./inFolder.ts"
import { makeThrowawayCopy } from "./throwawayCopy.ts"

export interface Observation {
  /** By step id: its status, then a digest of its value and of its declared outputs' contents. */
  readonly outcomes: ReadonlyMap<string, string>
  readonly intervals: ReadonlyMap<string, Interval>
  /** The run's events, in order: what invariants are checked against. */
  readonly events: ReadonlyArray<Event>
  /** What each step returned, by id: the values invariants see. */
  readonly outputs: Readonly<Record<string, unknown>>
}

export interface ObserveOptions {
  readonly folder: string
  readonly executor: Executor
  /** By step id: the `cache.outputs` globs it declares. */
  readonly outputs: ReadonlyMap<string, ReadonlyArray<string>>
  /** The steps run, with what they depend on (default: all). */
  readonly only?: ReadonlyArray<string> | undefined
  /**
   * The workflow's rate limiters, one set for every run: the service a
   * limit protects counts calls across runs, and `verify` runs them back to
   * back, so each run's limiter must remember the previous run's calls.
   */
  readonly rateLimiters: ReadonlyMap<string, RateLimiter>
  /** The plan's step ids, in order: the schedule's priorities are by position. */
  readonly ids: ReadonlyArray<string>
  /** Cancels the run when aborted. */
  readonly signal?: AbortSignal | undefined
}

// A value canonicalHash refuses (a function, a class instance) is still
// compared, by its printed form: better a coarse comparison than none.
const valueDigest = (value: unknown): string => {
  try {
    return canonicalHash(value)
  } catch {
    return inspect(value, { depth: Infinity, sorted: true })
  }
}

const filesDigest = (dir: string, globs: ReadonlyArray<string>): string => {
  if (globs.length === 0) return ""
  const hash = createHash("sha256")
  for (const file of fs.globSync([...globs], { cwd: dir }).sort()) {
    const full = path.join(dir, file)
    hash.update(file).update("\0").update(fs.statSync(full).isFile() ? fs.readFileSync(full) : "").update("\0")
  }
  return hash.digest("hex")
}

/** By step id: its status, then a digest of its value and of its declared output files in `dir`. */
export const outcomesOf = (result: RunResult, dir: string, outputs: ReadonlyMap<string, ReadonlyArray<string>>): Map<string, string> => {
  const outcomes = new Map<string, string>()
  for (const [id, summary] of Object.entries(result.steps)) {
    const value = (result.outputs as Record<string, unknown>)[id]
    outcomes.set(id, `${summary.status} ${valueDigest(value)} ${filesDigest(dir, outputs.get(id) ?? [])}`)
  }
  return outcomes
}

/** What `observe` needs to run `wf`'s `plan`, from the options `verify` and `checkSchedule` take. */
export const observeOptionsFor = (
  wf: Workflow<any>,
  plan: Plan,
  given: { readonly cwd?: string | undefined; readonly executor?: Executor | undefined; readonly only?: ReadonlyArray<string> | undefined; readonly signal?: AbortSignal | undefined },
  rateLimiters: ReadonlyMap<string, RateLimiter>
): ObserveOptions => ({
  folder: given.cwd ?? process.cwd(),
  executor: given.executor ?? localExecutor,
  outputs: new Map(plan.steps.map((s) => [s.id, declaredOutputs(s.cache, wf.options.cache)])),
  only: given.only,
  rateLimiters,
  ids: plan.ids,
  signal: given.signal
})

/** The run's working folder is also the process's while it lasts (`inFolder`). */
export const observe = async (wf: Workflow<any>, schedule: Schedule, options: ObserveOptions): Promise<Observation> => {
  const copy = makeThrowawayCopy(options.folder)
  const delaying = makeDelayingExecutor(options.executor, schedule)
  const events: Array<Event> = []
  const priority = keepsPlanPriority(schedule) ? undefined : new Map(options.ids.map((id, i) => [id, schedule.priority[i] ?? 0]))
  try {
    const result = await inFolder(copy.dir, () => run(wf, {
      cwd: copy.dir,
      weftDir: path.join(copy.dir, ".weft"),
      executor: delaying.executor,
      concurrency: schedule.concurrency,
      cache: { mode: "off" },
      journal: false,
      history: false,
      failFast: false,
      only: options.only,
      rateLimiters: options.rateLimiters,
      priority,
      signal: options.signal,
      onEvent: (event) => void events.push(event)
    }))
    return { outcomes: outcomesOf(result, copy.dir, options.outputs), intervals: delaying.intervals, events, outputs: result.outputs as Record<string, unknown> }
  } finally {
    copy.remove()
  }
}
