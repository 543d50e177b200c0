/**
 * Random workflows with rate limits (and, half the time, resources) for the
 * ETA's property test: the generated model of `arbitraries.ts`, without
 * failures (the ETA does not foresee retries), plus 1..2 rate limits that
 * most steps name.
 */
import * as fc from "fast-check"
import { Workflow } from "../dsl/Workflow.ts"
import { toWorkflow, workflowModel, type WorkflowModel } from "./arbitraries.ts"

/** A generated workflow under rate limits: rate limit `l` is `q<l>`. */
export interface LimitedModel {
  readonly model: WorkflowModel
  /** At most `limit` starts in any `perMs`. */
  readonly rateLimits: ReadonlyArray<{ readonly limit: number; readonly perMs: number }>
  /** Each step's rate limit (an index of `rateLimits`), if any. */
  readonly rateLimitOf: ReadonlyArray<number | undefined>
}

/** The name of rate limit `l`. */
export const rateLimitName = (l: number): string => `q${l}`

export const limitedModel = (options: { readonly maxSteps?: number } = {}): fc.Arbitrary<LimitedModel> => {
  const base = { failures: false, optional: false, maxSteps: options.maxSteps ?? 12 }
  return fc.oneof(workflowModel(base), workflowModel({ ...base, resources: true })).chain((model) =>
    fc.array(fc.record({ limit: fc.integer({ min: 1, max: 3 }), perMs: fc.integer({ min: 1, max: 30 }) }), { minLength: 1, maxLength: 2 }).chain((rateLimits) =>
      fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.nat({ max: rateLimits.length - 1 }) }), {
        minLength: model.steps.length,
        maxLength: model.steps.length
      }).map((rateLimitOf) => ({ model, rateLimits, rateLimitOf }))
    )
  )
}

/** The weft workflow of a limited model: `toWorkflow`'s, with the rate limits declared and named. */
export const toLimitedWorkflow = (limited: LimitedModel): Workflow<any> => {
  const wf = toWorkflow(limited.model)
  const rateLimits = Object.fromEntries(limited.rateLimits.map((r, l) => [rateLimitName(l), { limit: r.limit, per: r.perMs }]))
  return Workflow.make(
    wf.name,
    { ...wf.options, rateLimits },
    wf.steps.map((def, i) => {
      const l = limited.rateLimitOf[i]
      return l === undefined ? def : { ...def, rateLimit: rateLimitName(l) }
    })
  )
}

/** The limited model as readable lines. */
export const describeLimited = (limited: LimitedModel): string =>
  [
    `rate limits: ${limited.rateLimits.map((r, l) => `${rateLimitName(l)} ${r.limit}/${r.perMs} ms`).join(", ")}`,
    `steps' rate limits: ${limited.rateLimitOf.map((l, i) => `s${i}:${l === undefined ? "-" : rateLimitName(l)}`).join(" ")}`
  ].join("\n")
