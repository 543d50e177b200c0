/**
 * Random workflows for the property suites, generated from small numbers and
 * indices so they shrink to tiny graphs: step `i` is `s<i>`, its dependencies
 * are indices of earlier steps, durations are whole virtual milliseconds.
 *
 * A `WorkflowModel` is plain data (printable, replayable); `toWorkflow` turns
 * it into a weft workflow whose steps sleep for their duration and fail on the
 * attempts the model plans.
 */
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import { makeStepDef } from "../dsl/Step.ts"
import { Workflow } from "../dsl/Workflow.ts"

/** One generated step. */
export interface StepModel {
  /** Indices of earlier steps whose outputs it receives. */
  readonly needs: ReadonlyArray<number>
  /** Indices of earlier steps it waits for without their outputs. */
  readonly after: ReadonlyArray<number>
  /** Virtual milliseconds each attempt takes (at least 1). */
  readonly duration: number
  readonly optional: boolean
  /** Attempts `1..failures` fail (after `duration`); later attempts succeed. */
  readonly failures: number
  /** Retries after a failed attempt. */
  readonly retries: number
  /** Delay before the first retry; each later one doubles (weft's default factor). */
  readonly retryDelay: number
  /** How much of each of the workflow's resources it holds while it runs (resource `r` is `r<r>`); absent: none. */
  readonly demand?: ReadonlyArray<number> | undefined
}

/** A generated workflow: steps in declaration order, plus the run options. */
export interface WorkflowModel {
  readonly steps: ReadonlyArray<StepModel>
  /** A slot limit, or `"unlimited"`. */
  readonly concurrency: number | "unlimited"
  readonly failFast: boolean
  /** Capacities of resources `r0`, `r1`, …; absent: the workflow declares none. */
  readonly resources?: ReadonlyArray<number> | undefined
}

/** What `"unlimited"` becomes: weft needs a whole number. */
export const UNLIMITED = Number.MAX_SAFE_INTEGER

/**
 * The id of step `i`.
 *
 * @example
 * arbitraries.idOf(3) // "s3"
 */
export const idOf = (i: number): string => `s${i}`

/** The index of a step id made by `idOf`. */
export const indexOfId = (id: string): number => Number(id.slice(1))

/** The slot limit the engine is given. */
export const limitOf = (model: WorkflowModel): number => (model.concurrency === "unlimited" ? UNLIMITED : model.concurrency)

/**
 * Every dependency of a step, needs then after, without repeats (indices).
 *
 * @example
 * arbitraries.depsOf(model.steps[2]!).map(arbitraries.idOf) // ["s0", "s1"]
 */
export const depsOf = (step: StepModel): Array<number> => [...new Set([...step.needs, ...step.after])]

/**
 * How many attempts a step makes: until it succeeds or runs out of retries.
 *
 * @example
 * expect(stepEnd.attempts).toBe(arbitraries.attemptsOf(model.steps[i]!))
 */
export const attemptsOf = (step: StepModel): number => Math.min(step.failures, step.retries) + 1

/**
 * Whether a step ends succeeded: its planned failures fit in its retries.
 *
 * @example
 * expect(stepEnd.status).toBe(arbitraries.succeeds(model.steps[i]!) ? "succeeded" : "failed")
 */
export const succeeds = (step: StepModel): boolean => step.failures <= step.retries

/** The delay before retry number `retry` (1-based), as weft computes it for `{ times, delay }`. */
export const retryDelayOf = (step: StepModel, retry: number): number => step.retryDelay * 2 ** (retry - 1)

/**
 * Milliseconds from a step's start to its end when nothing interrupts it:
 * its attempts and the delays between them.
 *
 * @example
 * arbitraries.totalTimeOf({ ...step, duration: 5, failures: 1, retries: 1, retryDelay: 2 }) // 12
 */
export const totalTimeOf = (step: StepModel): number => {
  let total = attemptsOf(step) * step.duration
  for (let retry = 1; retry < attemptsOf(step); retry++) total += retryDelayOf(step, retry)
  return total
}

/** Whether any step of the model fails at least once. */
export const plansFailures = (model: WorkflowModel): boolean => model.steps.some((s) => s.failures > 0)

export interface ModelOptions {
  readonly minSteps?: number
  readonly maxSteps?: number
  /** Plan failing attempts (default true). */
  readonly failures?: boolean
  /** Give steps retries (default: same as `failures`). */
  readonly retries?: boolean
  /** Let retries wait before the next attempt (default: same as `retries`). */
  readonly retryDelays?: boolean
  /** Mark some steps optional (default true). */
  readonly optional?: boolean
  readonly maxDuration?: number
  /** Slot limits to pick from; `"unlimited"` allowed (default 1..4 or unlimited). */
  readonly concurrency?: fc.Arbitrary<number | "unlimited">
  /** Fixed fail-fast, or random when undefined. */
  readonly failFast?: boolean
  /** Declare 1..3 resources of capacity 1..3 and give most steps a demand of them (default false). */
  readonly resources?: boolean
}

/** A dependency as generated: an index folded into the earlier steps, and its kind. */
interface RawDep {
  readonly target: number
  readonly needs: boolean
}

interface RawStep {
  readonly deps: ReadonlyArray<RawDep>
  readonly duration: number
  readonly optional: boolean
  readonly failures: number
  readonly retries: number
  readonly retryDelay: number
}

/** Folds raw indices into earlier steps (step 0 has none) and splits them into needs and after. */
const fromRaw = (i: number, raw: RawStep): StepModel => {
  const needs: Array<number> = []
  const after: Array<number> = []
  const seen = new Set<number>()
  if (i > 0) {
    for (const dep of raw.deps) {
      const target = dep.target % i
      if (seen.has(target)) continue
      seen.add(target)
      ;(dep.needs ? needs : after).push(target)
    }
  }
  return { needs, after, duration: raw.duration, optional: raw.optional, failures: raw.failures, retries: raw.retries, retryDelay: raw.retries > 0 ? raw.retryDelay : 0 }
}

/**
 * Slot limits 1..4 or unlimited: `workflowModel`'s default `concurrency`.
 *
 * @example
 * arbitraries.workflowModel({ concurrency: fc.constant(2) }) // or arbitraries.concurrencyArb
 */
export const concurrencyArb: fc.Arbitrary<number | "unlimited"> = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant("unlimited" as const))

/** Mostly 0, sometimes 1..max: so most steps behave and a few do not. */
const rarely = (max: number): fc.Arbitrary<number> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max }) })

/**
 * Random workflows as data: 1 to 12 steps (`minSteps`, `maxSteps`), each
 * waiting for up to 3 earlier ones by `needs` or `after`, with durations,
 * planned failures, retries, optional steps and, with `resources: true`,
 * resources. Turn one into a workflow with {@link toWorkflow}; print it with
 * {@link describeModel}.
 *
 * @example
 * fc.assert(fc.property(arbitraries.workflowModel({ failures: false }), (model) => {
 *   expect(() => Plan.make(arbitraries.toWorkflow(model))).not.toThrow()
 * }))
 */
export const workflowModel = (options: ModelOptions = {}): fc.Arbitrary<WorkflowModel> => {
  const failures = options.failures ?? true
  const retries = options.retries ?? failures
  const retryDelays = options.retryDelays ?? retries
  const rawStep: fc.Arbitrary<RawStep> = fc.record({
    deps: fc.array(fc.record({ target: fc.nat({ max: 11 }), needs: fc.boolean() }), { maxLength: 3 }),
    duration: fc.integer({ min: 1, max: options.maxDuration ?? 20 }),
    optional: options.optional ?? true ? fc.boolean() : fc.constant(false),
    failures: failures ? rarely(3) : fc.constant(0),
    retries: retries ? rarely(2) : fc.constant(0),
    retryDelay: retryDelays ? rarely(5) : fc.constant(0)
  })
  const plain = fc.record({
    steps: fc.array(rawStep, { minLength: options.minSteps ?? 1, maxLength: options.maxSteps ?? 12 }).map((raws) => raws.map((raw, i) => fromRaw(i, raw))),
    concurrency: options.concurrency ?? concurrencyArb,
    failFast: options.failFast === undefined ? fc.boolean() : fc.constant(options.failFast)
  })
  return options.resources === true ? plain.chain(withResources) : plain
}

/** Capacities for 1..3 resources, and for each step a demand within them (zero for about a third of the amounts). */
const withResources = (model: WorkflowModel): fc.Arbitrary<WorkflowModel> =>
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }).chain((capacity) =>
    fc.array(fc.tuple(...capacity.map((c) => fc.oneof(fc.constant(0), fc.integer({ min: 1, max: c })))), {
      minLength: model.steps.length,
      maxLength: model.steps.length
    }).map((demands) => ({
      ...model,
      resources: capacity,
      steps: model.steps.map((step, i) => (demands[i]!.some((d) => d > 0) ? { ...step, demand: demands[i] } : step))
    }))
  )

/** The name of resource `r`. */
export const resourceOf = (r: number): string => `r${r}`

/** Step `i`'s demand of each of the model's resources (zeros when it has none). */
export const demandOf = (model: WorkflowModel, i: number): Array<number> =>
  (model.resources ?? []).map((_, r) => model.steps[i]!.demand?.[r] ?? 0)

/** A demand or capacity vector as weft's `resources` option, zeros left out. */
const amounts = (vector: ReadonlyArray<number>): Record<string, number> =>
  Object.fromEntries(vector.flatMap((n, r) => (n > 0 ? [[resourceOf(r), n]] : [])))

/** The planned failure of an attempt, as its error message says. */
export const plannedFailure = (id: string, attempt: number): Error => new Error(`planned failure of ${id} on attempt ${attempt}`)

/** Makes the runner of model step `i`: what each attempt does (`ctx.attempt` is 1-based). */
export type BodyOf = (i: number, step: StepModel) => (inputs: unknown, ctx: { readonly attempt: number }) => unknown

/**
 * Bodies that sleep: each attempt sleeps `duration` milliseconds (virtual
 * under `TestClock` with `runEffect`, real under `run`), then fails when
 * planned; the output is the step's id. `toWorkflow`'s default.
 *
 * @example
 * arbitraries.toWorkflow(model, arbitraries.sleepingBody)
 */
export const sleepingBody: BodyOf = (i, step) => (_inputs, ctx) =>
  ctx.attempt <= step.failures
    ? Effect.andThen(Effect.sleep(step.duration), Effect.fail(plannedFailure(idOf(i), ctx.attempt)))
    : Effect.as(Effect.sleep(step.duration), idOf(i))

/**
 * The weft workflow of a model. Each step's `estimate` is its duration, so the
 * scheduler ranks by real (per-attempt) durations. `body` makes what each
 * step does (default: {@link sleepingBody}).
 *
 * @example
 * const wf = arbitraries.toWorkflow(model, (i) => () => `step ${i} ran`)
 * await run(wf)
 */
export const toWorkflow = (model: WorkflowModel, body: BodyOf = sleepingBody, name = "generated"): Workflow<any> =>
  Workflow.make(
    name,
    model.resources === undefined
      ? { concurrency: limitOf(model), failFast: model.failFast }
      : { concurrency: limitOf(model), failFast: model.failFast, resources: amounts(model.resources) },
    model.steps.map((step, i) =>
      makeStepDef(
        idOf(i),
        {
          needs: step.needs.map(idOf),
          after: step.after.map(idOf),
          optional: step.optional,
          retry: { times: step.retries, delay: step.retryDelay },
          estimate: step.duration,
          ...(step.demand === undefined ? {} : { resources: amounts(step.demand) })
        },
        body(i, step)
      )
    )
  )

/**
 * The model as a few readable lines: the options, then one per step. For
 * failure messages: a model prints as JSON otherwise.
 *
 * @example
 * expect(result.status, arbitraries.describeModel(model)).toBe("succeeded")
 */
export const describeModel = (model: WorkflowModel): string => {
  const lines = [`workflow: concurrency ${model.concurrency}, failFast ${model.failFast}${model.resources === undefined ? "" : `, resources ${JSON.stringify(amounts(model.resources))}`}`]
  model.steps.forEach((step, i) => {
    const parts = [`${idOf(i)}: ${step.duration} ms`]
    if (step.needs.length > 0) parts.push(`needs [${step.needs.map(idOf).join(", ")}]`)
    if (step.after.length > 0) parts.push(`after [${step.after.map(idOf).join(", ")}]`)
    if (step.optional) parts.push("optional")
    if (step.failures > 0) parts.push(`fails attempts 1..${step.failures}`)
    if (step.demand !== undefined) parts.push(`resources ${JSON.stringify(amounts(step.demand))}`)
    if (step.retries > 0) parts.push(`retry ${step.retries}${step.retryDelay > 0 ? ` (delay ${step.retryDelay} ms, x2)` : ""}`)
    lines.push(`  ${parts.join(", ")}`)
  })
  return lines.join("\n")
}
