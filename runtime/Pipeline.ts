/**
 * A step runs through a chain of stages around its body, each
 * `(step, next) => Effect`, the first outermost. Each feature (the cache, the
 * journal, retries, rate limits, …) is a `Feature`: it may add a stage, fields
 * of its own to each step (`StepFeatures`), a look at every report, warnings
 * at the start and work that lasts the run. The one ordered list of features
 * is `features.ts`; the executor knows none of them.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type { Executor, StepBody } from "./Executor.ts"
import { describeError } from "./internal/describeError.ts"
import type { Plan } from "./Plan.ts"
import type { StepEnv } from "./permissions/StepEnv.ts"
import type { Redactor } from "./permissions/redact.ts"
import type { StepReport } from "./StepReport.ts"
import type { StoredFile } from "./cache/CacheStore.ts"
import type { CacheSettings } from "./cache/runCache.ts"
import type { JournalSetup } from "./journal/stage.ts"
import type { KeptResult } from "./watch/keep.ts"
import type { RateLimiter } from "./RateLimiter.ts"

/**
 * What each feature adds to a step, under its own name: empty here, and
 * augmented by each feature's module (`declare module "../Pipeline.ts"`), so
 * the core carries them without knowing them.
 */
export interface StepFeatures {}

/** One step's execution, shared by its stages: the body's part (`StepBody`), the attempt under way, and what features add. */
export interface StepRun extends StepBody {
  /** The attempt under way, 1-based; set by the retry stage. */
  attempt: number
  /** Set by the permissions feature before any stage runs (see `permissions/stage.ts`). */
  env: StepEnv
  redact: Redactor | undefined
  /** Set by a stage that answers without running (keep, journal, cache): the step ends `cached`, having saved this long. */
  cached: Answered | undefined
  readonly features: StepFeatures
}

/** How a stage answered for a step without running it (`StepRun.cached`). */
export interface Answered {
  readonly savedMs: number
  /**
   * What a cache hit was read from, so the run journal records it as it is
   * rather than computing it again: `value`, the output it returned, came
   * from the bytes `valueBytes` (`serializeValue`'s); `outputs` are the
   * declared output files, just checked on disk against their digests (or
   * restored). A hit that reads as much costs the journal no hashing.
   */
  readonly stored?: {
    readonly value: unknown
    readonly valueBytes: Uint8Array
    readonly outputs: ReadonlyArray<StoredFile>
  } | undefined
}

export type Stage = (step: StepRun, next: Effect.Effect<unknown, unknown>) => Effect.Effect<unknown, unknown>

/**
 * The environment of a step no feature has prepared: nothing. The
 * permissions feature gives every step of a run its own before it runs.
 */
export const noEnv: StepEnv = Object.freeze({ allowAll: false, declared: [], allowed: new Set<string>(), values: {}, redact: undefined, problem: undefined })

/** Runs `body` inside `stages`, the first stage outermost. */
export const compose = (
  stages: ReadonlyArray<Stage>,
  body: (step: StepRun) => Effect.Effect<unknown, unknown>
) =>
(step: StepRun): Effect.Effect<unknown, unknown> =>
  stages.reduceRight<Effect.Effect<unknown, unknown>>((next, stage) => stage(step, next), Effect.suspend(() => body(step)))

/** What the executor hands the features of one run. */
export interface RunInput {
  readonly cwd: string
  readonly file?: string | undefined
  readonly cache: CacheSettings
  readonly journal?: JournalSetup | undefined
  readonly keep?: ReadonlyMap<string, KeptResult> | undefined
  readonly allowAll?: boolean | undefined
  readonly rateLimiters?: ReadonlyMap<string, RateLimiter> | undefined
  readonly alerts?: { readonly stepOverrun: number | undefined; readonly run: { readonly expectedMs: number; readonly factor: number } | undefined } | undefined
  /** Where bodies run. */
  readonly executor: Executor
}

/** What a feature sees of the run it is set up for. */
export interface RunSetup {
  readonly plan: Plan
  readonly options: RunInput
  /** The run's clock, in epoch milliseconds. */
  readonly now: () => number
  /** Tells the run something, through every feature's `onReport`. */
  readonly send: (report: StepReport) => void
  /** A `run:warning` about the run rather than a step. */
  readonly warn: (message: string) => void
  /** Runs `effect` with the run's services; interrupted when the run ends. */
  readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>
  /** What `feature` provides to others in this run (set up on first use). */
  readonly use: <A>(feature: Feature<A>) => A
  /**
   * Wakes a step that gave its slot back to wait, once the run hands one
   * over: the rate limit feature's, which the executor calls on `executor.resume`.
   */
  readonly onResume: (step: number, wake: () => void) => () => void
}

/** A feature as one run uses it. */
export interface FeatureRun<A = unknown> {
  /** Its stage in the pipeline, if it has one. */
  readonly stage?: Stage | undefined
  /** Adds the feature's fields to a step about to run. */
  readonly prepare?: ((step: StepRun) => void) | undefined
  /** Sees (and may change) every report of the run, in order, before it is told; `step` is undefined for the run's own. */
  readonly onReport?: (<R extends StepReport>(step: StepRun | undefined, report: R) => R) | undefined
  /** Said when the run starts. */
  readonly warnings?: ReadonlyArray<string> | undefined
  /** Runs as long as the run does. */
  readonly background?: Effect.Effect<void> | undefined
  /** What other features get from `use`. */
  readonly provides?: A
}

/**
 * A feature of a step's run: set up once per run, it gives its stage and
 * hooks (`FeatureRun`). `inner`: its stage sits inside the run's own stages,
 * which `CompileOptions.stages` replaces (retries, rate limits, timeout,
 * announce), rather than outside them (keep, permissions, journal, cache).
 */
export interface Feature<A = unknown> {
  readonly name: string
  readonly inner?: true | undefined
  readonly setup: (run: RunSetup) => FeatureRun<A>
}

/**
 * The `step:end` report of `step`'s fiber's `exit`: built whole, one object
 * per step, rather than an ending spread into a report (a spread per step
 * showed in the no-op bench).
 */
export const endOf = (step: StepRun, time: number, exit: Exit.Exit<unknown, unknown>): Extract<StepReport, { readonly type: "step:end" }> => {
  const { index, attempt, cached } = step
  return Exit.isSuccess(exit)
    ? cached === undefined
      ? { type: "step:end", step: index, time, attempts: attempt, status: "succeeded", value: exit.value }
      : { type: "step:end", step: index, time, attempts: attempt, status: "cached", value: exit.value, savedMs: cached.savedMs }
    : Cause.hasInterruptsOnly(exit.cause)
    ? { type: "step:end", step: index, time, attempts: attempt, status: "cancelled" }
    : { type: "step:end", step: index, time, attempts: attempt, status: "failed", error: describeError(Cause.squash(exit.cause)) }
}
