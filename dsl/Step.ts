/**
 * What a step is: an id, what it waits for, how it is retried and timed, and
 * its runner (a function, a command or another workflow).
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { Command, CommandOutput } from "./Command.ts"
import { stepOptionKeys } from "./options.ts"
import type { Permissions } from "./Permissions.ts"
import type { Workflow } from "./Workflow.ts"

/** What a running step can see and do. One per attempt. */
export interface StepContext {
  /** The step's id. */
  readonly stepId: string
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number
  /** Aborted when the step is interrupted (timeout, fail-fast, Ctrl-C): pass it to `fetch` and friends. */
  readonly signal: AbortSignal
  /** Adds a line to the step's log (`step:log`, stream `log`). Arguments are formatted like `console.log`. */
  log(...args: ReadonlyArray<unknown>): void
  /** Reports progress: `done` of `total` units, with an optional message (`step:progress`). */
  progress(done: number, total?: number, message?: string): void
  /**
   * Streams a part of the step's result as soon as it is ready (`step:partial`),
   * so a long report shows section by section. Strings are shown as they are,
   * other values inspected on one line. The step's output is still what it
   * returns; to make the parts the output, return an async generator instead.
   *
   * @example
   * .step("report", async (_, ctx) => {
   *   const intro = await write("intro")
   *   ctx.emit(intro)
   *   const body = await write("body")
   *   ctx.emit(body)
   *   return [intro, body].join("\n\n")
   * })
   */
  emit(part: unknown): void
  /**
   * The environment variables the step declared in `permissions.env`, plus
   * PATH, HOME, TMPDIR, LANG, LC_ALL, LC_CTYPE, TERM and TZ. Reading any other
   * name throws an error that says how to declare it (`weft run --allow-all`
   * turns the check off).
   *
   * @example
   * .step("fetch", { permissions: { env: ["API_URL"] } }, (_, ctx) => fetch(ctx.env.API_URL!))
   */
  readonly env: Readonly<Record<string, string | undefined>>
}

/**
 * A function runner: gets its needs' outputs and the context; returns a value,
 * a promise or an Effect. Returning a command or a workflow runs it, so a
 * command can be built from inputs: `({ version }) => sh\`git tag ${version}\``.
 * Returning an `AsyncIterable` (an async generator) or an Effect `Stream`
 * streams it: each item is a `step:partial`, and the output is the array of items.
 */
export type StepFunction<I, R> = (inputs: I, ctx: StepContext) => R

/** Anything that can run as a step. */
export type Runner<I = any, R = unknown> = StepFunction<I, R> | Command | Workflow<any>

/** The value a runner produces once awaited: Effects and promises are unwrapped, streams collected into arrays. */
export type OutputOf<R> = R extends Command ? CommandOutput
  : R extends Workflow<infer O> ? O
  : R extends StepFunction<any, infer Ret> ? Unwrap<Ret>
  : never

/** A function may also return a command or a workflow to run (built from its inputs): it runs, and its output is the step's. */
type Unwrap<Ret> = Dynamic<Ret extends Effect.Effect<infer A, any, any> ? A : Awaited<Ret>>

/** What the body does with the awaited value: runs a command or workflow, collects a stream's items. */
type Dynamic<A> = A extends Command ? CommandOutput
  : A extends Workflow<infer O> ? O
  : A extends AsyncIterable<infer T> ? Array<T>
  : A extends Stream.Stream<infer T, any, any> ? Array<T>
  : A

/**
 * Retry: a number of retries, or a backoff policy. A number retries with the
 * default backoff: 1 s, then twice as long each time, at most 30 s.
 */
export type RetryOption =
  | number
  | {
    /** How many times to retry after the first attempt fails. */
    readonly times: number
    /** The delay before the first retry (default 1 second; `0` retries at once). */
    readonly delay?: Duration.Input
    /** Each later delay is the previous one times `factor` (default 2). */
    readonly factor?: number
    /** No delay grows beyond this (default 30 seconds, or `delay` when that is longer). */
    readonly maxDelay?: Duration.Input
  }

/**
 * Caching a step's result. With `cache: true` the key covers the step's
 * definition and the outputs it needs; list what else it reads here.
 */
export interface CacheOptions {
  /** Globs of the files the step reads, relative to the workflow's folder: their contents enter the key. */
  readonly inputs?: ReadonlyArray<string>
  /** Environment variables the step reads: their values enter the key (hashed, never stored). */
  readonly env?: ReadonlyArray<string>
  /** Globs of the files a command step writes: stored, and restored on a hit. */
  readonly outputs?: ReadonlyArray<string>
  /** What the key cannot see (a closure's captured values, a remote version): a string, or computed from the inputs. */
  readonly key?: string | ((inputs: any) => unknown)
  /** How long a result stays valid ("1 hour"); default: until pruned. */
  readonly ttl?: Duration.Input
}

/** Options shared by `.step` and `.each`; `N` are the ids of the steps whose outputs the runner receives. */
export interface StepOptions<Ids extends string = string, N extends Ids = Ids> {
  /** Earlier steps whose outputs this step receives, by id. */
  readonly needs?: ReadonlyArray<N>
  /** Earlier steps to wait for without taking their outputs. */
  readonly after?: ReadonlyArray<Ids>
  /** A failure does not fail the run; dependents receive `undefined`. */
  readonly optional?: boolean
  /** Retries after a failed attempt. */
  readonly retry?: RetryOption
  /** Each attempt is interrupted after this long ("30 seconds", or milliseconds). */
  readonly timeout?: Duration.Input
  /**
   * How long the step usually takes, until history knows better: the
   * scheduler starts long chains first, and the ETA counts on it. Once the
   * step has run, its median duration from history supersedes this.
   */
  readonly estimate?: Duration.Input
  /** Reuse the result of an earlier run with the same inputs (`true`, or what the key covers). */
  readonly cache?: boolean | CacheOptions
  /** The workflow rate limit (a key of its `rateLimits`) each attempt of this step waits for. */
  readonly rateLimit?: string
  /**
   * What the step holds while it runs, from the workflow's `resources`:
   * `{ db: 1 }`. It starts only when all of it is free at once.
   */
  readonly resources?: Readonly<Record<string, number>>
  /** What the step may see: the environment variables it reads (replaces the workflow's `permissions`). */
  readonly permissions?: Permissions
  /**
   * `"local"`: the step runs in the coordinator even when the run has
   * workers (`weft run --workers`): a step that prompts, or that touches the
   * coordinator's own files.
   */
  readonly runsOn?: "local"
}

/**
 * A step as the engine sees it, after the builder: every option of
 * `StepOptions` (`undefined` where not set: as the workflow says, or none),
 * with `needs`, `after` and `optional` filled in.
 */
export interface StepDef extends Omit<SetOrNot<StepOptions>, "needs" | "after" | "optional"> {
  readonly id: string
  readonly needs: ReadonlyArray<string>
  readonly after: ReadonlyArray<string>
  readonly optional: boolean
  readonly run: Runner
  /** Option keys that weft does not know, kept so the plan can report them. */
  readonly unknownOptions: ReadonlyArray<string>
}

/** Every option of `O`, present, `undefined` when not set (not homomorphic, so that `undefined` stays). */
type SetOrNot<O> = { readonly [K in Extract<keyof O, string>]: O[K] | undefined }

/** The option table's keys, looked up once per key of every step the builder makes. */
const optionKeys: ReadonlySet<string> = new Set(stepOptionKeys)

/**
 * Shared by the definitions that leave a list out (most of them): a workflow
 * of 100,000 steps otherwise keeps 200,000 empty arrays alive.
 */
export const none: ReadonlyArray<string> = Object.freeze([])

/**
 * Builds a `StepDef` from user options, keeping unknown keys for the plan's
 * report (a spec, which reports its own, passes none).
 */
export const makeStepDef = (
  id: string,
  options: StepOptions<string, string>,
  run: Runner,
  unknownOptions: ReadonlyArray<string> = unknownKeys(options)
): StepDef => ({
  // Every key written out, in one order, rather than copied in a loop over
  // the table: one object shape for every step, and a loop measured 7× slower
  // (1.1 µs a step) and 32 bytes a step larger at 300,000 steps.
  id,
  needs: options.needs ?? none,
  after: options.after ?? none,
  optional: options.optional ?? false,
  retry: options.retry,
  timeout: options.timeout,
  estimate: options.estimate,
  cache: options.cache,
  rateLimit: options.rateLimit,
  resources: options.resources,
  permissions: options.permissions,
  runsOn: options.runsOn,
  run,
  unknownOptions
})

/** The keys of `options` weft does not know; allocates only when there is one. */
const unknownKeys = (options: object): ReadonlyArray<string> => {
  let unknown: Array<string> | undefined
  for (const key of Object.keys(options)) {
    if (!optionKeys.has(key)) (unknown ??= []).push(key)
  }
  return unknown ?? none
}
