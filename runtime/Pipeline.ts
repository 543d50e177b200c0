/**
 * A step runs through a chain of stages around its body, each
 * `(step, next) => Effect`: retries, then the rate limit, then the timeout,
 * then the start announcement, then the body. Later features (cache lookup, resources,
 * permissions) are stages too; the executor does not change.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { StepDef } from "../dsl/Step.ts"
import { describeError, shortError } from "./internal/describeError.ts"
import type { RetryPolicy } from "../dsl/retryOptions.ts"
import { retryAfterMs, retryDelay } from "./internal/retry.ts"
import type { Outcome, Update } from "./internal/Update.ts"
import type { LogStream } from "./Event.ts"
import type { MemoScope } from "./memo.ts"
import type { RateLimiter } from "./RateLimiter.ts"
import type { Redactor } from "./permissions/redact.ts"
import type { StepEnv } from "./permissions/StepEnv.ts"

/** One step's execution, shared by its stages. */
export interface StepRun {
  readonly index: number
  readonly id: string
  /** The workflow's name. */
  readonly workflow: string
  readonly def: StepDef
  /** The outputs of the steps it needs, by id. */
  readonly inputs: Readonly<Record<string, unknown>>
  /** Folder commands run in (and relative paths resolve against). */
  readonly cwd: string
  /** The workflow's file, absolute, when it came from one: an isolated step's process imports it. */
  readonly file?: string | undefined
  readonly retry: RetryPolicy
  readonly timeoutMs: number | undefined
  /** The attempt under way, 1-based; set by the retry stage. */
  attempt: number
  /** Tells the machine what happened; `time` is filled in by the executor. */
  readonly report: (update: DistributiveOmit<Update, "step" | "time">) => void
  /** Set by the cache stage on a hit: the step ends `cached`, having saved this long. */
  cached: { readonly savedMs: number } | undefined
  /** Sees every log line the step reports while set (the cache stage keeps them for replay). */
  logTap: ((stream: LogStream, text: string) => void) | undefined
  /** Sees every part the step streams while set (the cache stage keeps them for replay). */
  partialTap: ((index: number, text: string) => void) | undefined
  /** The run's memoized calls, shared by every step. */
  readonly memo: MemoScope | undefined
  /** The rate limit each attempt waits for (`rateLimit`), if the step has one. */
  readonly rateLimiter?: RateLimiter | undefined
  /** Every limiter of the run, by name: a sub-workflow this step runs shares them. */
  readonly limiters?: ReadonlyMap<string, RateLimiter> | undefined
  /**
   * Gets the step's concurrency slot back after it gave it up to wait
   * (reported `waiting` with `releases`): resumes once the machine hands one
   * over, ahead of steps not yet started. Without it (a step run outside a
   * machine), a waiting step keeps its slot.
   */
  readonly reclaimSlot?: Effect.Effect<void> | undefined
  /** What the step may see of the environment (`permissions.env`), and the redaction of its secrets. */
  readonly env: StepEnv
  /**
   * Masks every secret of the workflow (`report` applies it). What cuts a
   * text before reporting it (a long line, a long part) asks it where, so no
   * secret is split between pieces and shown in part. Absent without secrets.
   */
  readonly redact?: Redactor | undefined
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

export type Stage = (step: StepRun, next: Effect.Effect<unknown, unknown>) => Effect.Effect<unknown, unknown>

/** Runs `body` inside `stages`, the first stage outermost. */
export const compose = (
  stages: ReadonlyArray<Stage>,
  body: (step: StepRun) => Effect.Effect<unknown, unknown>
) =>
(step: StepRun): Effect.Effect<unknown, unknown> =>
  stages.reduceRight<Effect.Effect<unknown, unknown>>((next, stage) => stage(step, next), Effect.suspend(() => body(step)))

/**
 * Runs attempts until one succeeds or the retries run out, waiting the backoff
 * between them, or longer when the failure says how long (`retryAfter`: see
 * `retryAfterMs`).
 */
export const retrying: Stage = (step, next) => {
  // A single attempt's failure is the step's: there is nothing to catch.
  if (step.retry.times === 0) {
    return Effect.suspend(() => {
      step.attempt++
      return next
    })
  }
  return Effect.suspend(function loop(): Effect.Effect<unknown, unknown> {
    step.attempt++
    return Effect.catchCause(next, (cause) => {
      const retry = step.attempt
      if (retry > step.retry.times || Cause.hasInterruptsOnly(cause) || !Cause.hasFails(cause)) {
        return Effect.failCause(cause)
      }
      const error = Cause.squash(cause)
      return Effect.clockWith((clock) => {
        const backoffMs = retryDelay(step.retry, retry)
        const askedMs = retryAfterMs(error, clock.currentTimeMillisUnsafe())
        const delayMs = askedMs === undefined ? backoffMs : Math.max(backoffMs, askedMs)
        const short = shortError(error, step.redact)
        const reason = describeError(error)
        step.report({ kind: "retry", attempt: step.attempt, error: short, ...(reason === short ? {} : { reason }), delayMs })
        return Effect.andThen(Effect.sleep(delayMs), Effect.suspend(loop))
      })
    })
  })
}

/**
 * Waits for the step's rate limit before each attempt, announcing the wait
 * (`step:waiting`) when there is one. It runs inside the retries, so every
 * attempt counts against the limit, and outside the timeout, so the wait does
 * not. A step that must wait gives its concurrency slot back meanwhile, so
 * other steps use it, and gets one again before its start is counted: the
 * limit holds for starts that really happen then.
 */
export const rateLimiting: Stage = (step, next) => {
  const limiter = step.rateLimiter
  if (limiter === undefined) return next
  const reason = `rate limit ${limiter.name}`
  const reclaim = step.reclaimSlot
  if (reclaim === undefined) return Effect.andThen(limiter.take(() => step.report({ kind: "waiting", reason })), next)
  return Effect.andThen(limiter.take(() => step.report({ kind: "waiting", reason, releases: true }), reclaim), next)
}

/** Interrupts an attempt that outlives the step's `timeout`. */
export const timing: Stage = (step, next) =>
  step.timeoutMs === undefined
    ? next
    : Effect.timeoutOrElse(next, {
      duration: step.timeoutMs,
      orElse: () => Effect.fail(new Error(`timed out after ${formatMs(step.timeoutMs!)}`))
    })

/** Announces the attempt right before the body runs, so `step:start` means the body really started. */
export const announcing: Stage = (step, next) =>
  Effect.suspend(() => {
    step.report({ kind: "start", attempt: step.attempt })
    return next
  })

/** The stages every step goes through, outermost first. */
export const defaultStages: ReadonlyArray<Stage> = [retrying, rateLimiting, timing, announcing]

const formatMs = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${+(ms / 1000).toFixed(1)} s`)

/** The exit of a step's fiber as an outcome for the machine. */
export const toOutcome = (exit: Exit.Exit<unknown, unknown>, cached?: { readonly savedMs: number }): Outcome =>
  Exit.isSuccess(exit)
    ? cached === undefined
      ? { _tag: "succeeded" as const, value: exit.value }
      : { _tag: "cached" as const, value: exit.value, savedMs: cached.savedMs }
    : Cause.hasInterruptsOnly(exit.cause)
    ? { _tag: "cancelled" as const }
    : { _tag: "failed" as const, error: describeError(Cause.squash(exit.cause)) }
