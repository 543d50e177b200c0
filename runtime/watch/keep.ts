/**
 * The keep stage of the step pipeline, outermost: a step whose result the
 * caller already holds (watch mode's previous run, for a step no change
 * affected) ends `cached` with that value at once, without running, without
 * the journal or the cache, and without a log line.
 *
 * Only results of steps that ended well belong here, and only for steps whose
 * definition, inputs and upstream results are unchanged: watch mode decides
 * that (see `affected.ts` and `diff.ts`); this stage trusts it.
 */
import * as Effect from "effect/Effect"
import type { Feature, Stage } from "../Pipeline.ts"

/** A result to reuse: the step's output and how long it took when it really ran (its `savedMs`). */
export interface KeptResult {
  readonly value: unknown
  readonly durationMs: number
}

/**
 * A stage that ends the steps named in `kept` with their kept value.
 *
 * @example
 * const result = await run(wf, { keep: new Map([["build", { value: "dist", durationMs: 1200 }]]) })
 * result.steps.build.status // "cached", without running
 */
export const keeping = (kept: ReadonlyMap<string, KeptResult>): Stage => (step, next) => {
  const hit = kept.get(step.id)
  if (hit === undefined) return next
  return Effect.sync(() => {
    step.cached = { savedMs: hit.durationMs }
    return hit.value
  })
}

/** The keep feature: the stage, when the run was given results to keep. */
export const keep: Feature = {
  name: "keep",
  setup: ({ options }) => (options.keep === undefined || options.keep.size === 0 ? {} : { stage: keeping(options.keep) })
}
