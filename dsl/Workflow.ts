/**
 * The typed builder. Each `.step` returns a new workflow whose type records the
 * step's output, so a later step's `needs` can only name earlier steps and its
 * runner receives their outputs typed. A typed workflow therefore cannot have a
 * cycle.
 */
import type * as Duration from "effect/Duration"
import type { Command } from "./Command.ts"
import type { Invariant } from "./Invariant.ts"
import type { Permissions } from "./Permissions.ts"
import { makeStepDef, type CacheOptions, type OutputOf, type Runner, type StepDef, type StepFunction, type StepOptions } from "./Step.ts"

/** Options for the whole workflow. */
export interface WorkflowOptions {
  /**
   * How many steps of any kind may run at once, commands included (default:
   * 64, or the CPU count if larger; commands at most one per CPU).
   */
  readonly concurrency?: number
  /**
   * How many command steps (`cmd`, `sh`) may run at once, within
   * `concurrency` (default: `concurrency` when set, else the CPU count).
   * Function steps are not counted: they mostly wait.
   */
  readonly commandConcurrency?: number
  /** Stop the run at the first failure (default true). */
  readonly failFast?: boolean
  /** Cache every step's result (each step's own `cache` option wins). */
  readonly cache?: boolean | CacheOptions
  /**
   * Named rate limits that steps share with `rateLimit: "<name>"`: at most
   * `limit` attempt starts in any window of `per` (a sliding window).
   *
   * @example
   * workflow("summaries", { rateLimits: { openai: { limit: 3, per: "1 second" } } })
   */
  readonly rateLimits?: Readonly<Record<string, RateLimitOption>>
  /**
   * Capacities of named resources steps hold while they run (`{ db: 1, gpu: 2 }`);
   * steps ask for them with their own `resources`. `slots` is taken: it is
   * `concurrency`.
   */
  readonly resources?: Readonly<Record<string, number>>
  /** What every step may see (a step's own `permissions` replace these): `{ env: ["CI", secret("NPM_TOKEN")] }`. */
  readonly permissions?: Permissions
  /**
   * When the run warns (`run:warning`, shown by every reporter) that
   * something is slow or wasteful (default: `{ stepOverrun: 2, runOverrun: 2 }`).
   *
   * @example
   * workflow("nightly", { alerts: { stepOverrun: 3, memoHitRate: 0.5 } })
   */
  readonly alerts?: AlertOptions
  /**
   * Named promises every run must keep, checked by `verify` (`weft verify`)
   * on every schedule it tries: each a function of the run that returns
   * `true` (or nothing) when it held, `false` or why not when it did not.
   * Ready-made ones are in `weft/properties` (`invariants.before`, …).
   *
   * @example
   * workflow("ci", { invariants: { "deploy after tests": (run) => run.succeededBefore("test-*", "deploy") } })
   */
  readonly invariants?: Readonly<Record<string, Invariant>>
}

/** Alerts: each a factor or share, or `false` for never. */
export interface AlertOptions {
  /** Warn when a step runs this many times longer than it should take (its median from history, else its `estimate`). Default 2. */
  readonly stepOverrun?: number | false
  /** Warn when the run goes on this many times longer than the ETA it started with (when every step has an expected duration). Default 2. */
  readonly runOverrun?: number | false
  /** Warn at the end when a memoized function answered under this share of its calls (20 calls at least). Default: off. */
  readonly memoHitRate?: number | false
}

/** A rate limit: at most `limit` attempt starts in any window of `per` ("1 second", or milliseconds). */
export interface RateLimitOption {
  readonly limit: number
  readonly per: Duration.Input
}

type Outputs = Record<string, unknown>

type Ids<O> = keyof O & string

/** A runner whose function form receives `I`. */
type RunnerOf<I> = StepFunction<I, unknown> | Command | Workflow<any>

type Inputs<O, N extends string> = { readonly [K in N]: O[K & keyof O] }

type WithStep<O, Id extends string, T> = O & { readonly [K in Id]: T }

type Maybe<T, Opt> = Opt extends true ? T | undefined : T

/** Rejects, at compile time, an id already used in the workflow. */
type NewId<Id extends string, O> = Id extends keyof O ? { readonly "duplicate step id": Id } : unknown

/** Options of `.each`: those of a step, plus how each item's step id is made. */
export interface EachOptions<T, Ids extends string = string, N extends Ids = Ids> extends StepOptions<Ids, N> {
  /** The item's part of the step id, `<id>:<key>` (default: the item itself for strings and numbers, else its index). */
  readonly key?: (item: T, index: number) => string
}

/**
 * An immutable workflow. Build one with {@link workflow}; run it with `run` or
 * `weft run`.
 */
export class Workflow<O extends Outputs = {}> {
  readonly _tag = "Workflow" as const
  readonly name: string
  readonly options: WorkflowOptions
  /** Shared with the workflows this one was built from: appending at the tip is O(1). */
  readonly #defs: Array<StepDef>
  readonly #length: number
  /** Phantom: the outputs, by step id. */
  declare readonly outputs: O

  private constructor(name: string, options: WorkflowOptions, defs: Array<StepDef>, length: number) {
    this.name = name
    this.options = options
    this.#defs = defs
    this.#length = length
  }

  /** @internal */
  static make(name: string, options: WorkflowOptions, defs: Array<StepDef> = []): Workflow<any> {
    return new Workflow(name, options, defs, defs.length)
  }

  /** The steps, in declaration order. */
  get steps(): ReadonlyArray<StepDef> {
    return this.#length === this.#defs.length ? this.#defs : this.#defs.slice(0, this.#length)
  }

  /**
   * Adds a step. `needs` names earlier steps whose outputs the runner receives;
   * `after` names earlier steps to wait for without their outputs.
   *
   * @example
   * workflow("release")
   *   .step("version", () => "1.2.3")
   *   .step("notes", { needs: ["version"] }, ({ version }) => `Release ${version}`)
   */
  step<Id extends string, Run extends RunnerOf<{}>>(
    id: Id & NewId<Id, O>,
    run: Run
  ): Workflow<WithStep<O, Id, OutputOf<Run>>>
  step<
    Id extends string,
    const N extends Ids<O> = never,
    Run extends RunnerOf<Inputs<O, N>> = RunnerOf<Inputs<O, N>>,
    const Opt extends boolean = false
  >(
    id: Id & NewId<Id, O>,
    options: StepOptions<Ids<O>, N> & { readonly optional?: Opt },
    run: Run
  ): Workflow<WithStep<O, Id, Maybe<OutputOf<Run>, Opt>>>
  step(id: string, optionsOrRun: unknown, maybeRun?: unknown): Workflow<any> {
    const [options, run] = maybeRun === undefined
      ? [{}, optionsOrRun as Runner]
      : [(optionsOrRun ?? {}) as StepOptions, maybeRun as Runner]
    return this.#extend([makeStepDef(id, options, run)])
  }

  /**
   * Fans out: one step per item, then a step named `id` whose output is the
   * array of their outputs, in item order. Dependents `needs: [id]` and get the
   * array, typed.
   *
   * @example
   * workflow("prices")
   *   .each("price", ["AAPL", "MSFT"], (ticker) => () => fetchPrice(ticker))
   *   .step("total", { needs: ["price"] }, ({ price }) => price.reduce((a, b) => a + b, 0))
   */
  each<Id extends string, T, Run extends RunnerOf<{}>>(
    id: Id & NewId<Id, O>,
    items: Iterable<T>,
    make: (item: T, index: number) => Run
  ): Workflow<WithStep<O, Id, Array<OutputOf<Run>>>>
  each<
    Id extends string,
    T,
    const N extends Ids<O> = never,
    Run extends RunnerOf<Inputs<O, N>> = RunnerOf<Inputs<O, N>>,
    const Opt extends boolean = false
  >(
    id: Id & NewId<Id, O>,
    items: Iterable<T>,
    options: EachOptions<T, Ids<O>, N> & { readonly optional?: Opt },
    make: (item: T, index: number) => Run
  ): Workflow<WithStep<O, Id, Array<Maybe<OutputOf<Run>, Opt>>>>
  each(id: string, items: Iterable<unknown>, optionsOrMake: unknown, maybeMake?: unknown): Workflow<any> {
    const [options, make] = maybeMake === undefined
      ? [{} as EachOptions<unknown>, optionsOrMake as (item: unknown, index: number) => Runner]
      : [(optionsOrMake ?? {}) as EachOptions<unknown>, maybeMake as (item: unknown, index: number) => Runner]
    const { key = defaultKey, ...stepOptions } = options
    const defs = Array.from(items, (item, index) => makeStepDef(`${id}:${key(item, index)}`, stepOptions, make(item, index)))
    const itemIds = defs.map((def) => def.id)
    const gather = (inputs: Record<string, unknown>) => itemIds.map((itemId) => inputs[itemId])
    return this.#extend([...defs, makeStepDef(id, { needs: itemIds }, gather)])
  }

  #extend(added: ReadonlyArray<StepDef>): Workflow<any> {
    // Appending to the newest workflow reuses its array; branching from an older one copies.
    const defs = this.#length === this.#defs.length ? this.#defs : this.#defs.slice(0, this.#length)
    for (const def of added) defs.push(def)
    return new Workflow(this.name, this.options, defs, defs.length)
  }
}

const defaultKey = (item: unknown, index: number): string =>
  typeof item === "string" || typeof item === "number" ? String(item) : String(index)

/**
 * Starts a workflow.
 *
 * @example
 * export default workflow("release", { concurrency: 4 })
 *   .step("version", () => "1.2.3")
 */
export const workflow = (name: string, options: WorkflowOptions = {}): Workflow<{}> => Workflow.make(name, options)

/** Whether `u` is a workflow built by weft. */
export const isWorkflow = (u: unknown): u is Workflow<any> =>
  // A tag rather than instanceof: a workflow file may load its own copy of weft.
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "Workflow" && Array.isArray((u as Workflow).steps)

/** The outputs of a workflow, by step id. */
export type WorkflowOutputs<W> = W extends Workflow<infer O> ? O : never
