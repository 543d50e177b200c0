/**
 * The run's features in the one order their stages run, outermost first: a
 * kept result (watch mode) skips everything; a step whose secrets cannot be
 * masked never runs nor replays; a journal replay skips the cache; a cache hit
 * skips retries, rate limits, timeouts and the body. Inside those, the run's
 * own stages: each attempt is retried, waits for its rate limit, is timed for
 * the overrun alert once it may start, times out, and announces its start.
 *
 * Adding a feature is a module exporting its `Feature` and a line here; the
 * executor does not change.
 */
import type * as Effect from "effect/Effect"
import { overrunAlerts, withOverrunAlert } from "./alerts.ts"
import { announce, announcing } from "./announce.ts"
import { cache } from "./cache/runCache.ts"
import { capture } from "./internal/stepOutput.ts"
import { journal } from "./journal/stage.ts"
import { permissions } from "./permissions/stage.ts"
import { compose, type Feature, type FeatureRun, type RunSetup, type Stage, type StepRun } from "./Pipeline.ts"
import { rateLimit, rateLimiting } from "./rateLimiting.ts"
import { retry, retrying } from "./retrying.ts"
import { timeout, timing } from "./timeout.ts"
import type { StepReport } from "./StepReport.ts"
import { keep } from "./watch/keep.ts"

/** Every feature, in stage order (the reports' hooks run in this order too: redaction first). */
export const features: ReadonlyArray<Feature<any>> = [keep, permissions, capture, journal, cache, retry, rateLimit, overrunAlerts, timeout, announce]

/** The run's own stages, which `CompileOptions.stages` replaces; outermost first. */
export const defaultStages: ReadonlyArray<Stage> = [retrying, rateLimiting, timing, announcing]

/** The features of one run, set up. */
export interface RunFeatures {
  /** A step through every stage to its executor. */
  readonly pipeline: (step: StepRun) => Effect.Effect<unknown, unknown>
  readonly prepare: ReadonlyArray<(step: StepRun) => void>
  readonly onReport: ReadonlyArray<<R extends StepReport>(step: StepRun | undefined, report: R) => R>
  readonly warnings: ReadonlyArray<string>
  readonly background: ReadonlyArray<Effect.Effect<void>>
}

/**
 * Sets up `list` for one run, each once, in order; a feature another `use`s
 * is set up first. `given` replaces the inner features' stages (the overrun
 * alert still goes just inside the rate limit stage, if `given` has it).
 */
export const setupFeatures = (base: Omit<RunSetup, "use">, given?: ReadonlyArray<Stage> | undefined, list: ReadonlyArray<Feature<any>> = features): RunFeatures => {
  const runs = new Map<Feature<any>, FeatureRun<any> | "setting up">()
  const order: Array<FeatureRun<any>> = []
  const setUp = (feature: Feature<any>): FeatureRun<any> => {
    const found = runs.get(feature)
    if (found === "setting up") throw new Error(`weft bug: feature ${feature.name} uses itself`)
    if (found !== undefined) return found
    runs.set(feature, "setting up")
    const made = feature.setup(run)
    runs.set(feature, made)
    order.push(made)
    return made
  }
  const run: RunSetup = { ...base, use: (feature) => setUp(feature).provides }
  for (const feature of list) setUp(feature)
  const stageOf = (feature: Feature<any>) => (runs.get(feature) as FeatureRun<any>).stage
  const outer = list.filter((f) => f.inner !== true).flatMap((f) => stageOf(f) ?? [])
  const inner = given === undefined
    ? list.filter((f) => f.inner === true).flatMap((f) => stageOf(f) ?? [])
    : withOverrunAlert(given, list.includes(overrunAlerts) ? stageOf(overrunAlerts) : undefined)
  const executor = base.options.executor
  // In list order, not set-up order: the order of stages and hooks is the list's.
  const inList = list.map((f) => runs.get(f) as FeatureRun<any>)
  return {
    pipeline: compose([...outer, ...inner], (step) => executor.run(step)),
    prepare: inList.flatMap((r) => r.prepare ?? []),
    onReport: inList.flatMap((r) => r.onReport ?? []),
    warnings: inList.flatMap((r) => r.warnings ?? []),
    background: inList.flatMap((r) => r.background ?? [])
  }
}
