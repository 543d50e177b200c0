/**
 * Which steps a file change affects: pure functions of the plan, the steps'
 * declared `cache.inputs` (and `cache.outputs`, which watch mode ignores) and
 * the changed paths.
 *
 * A step is touched by a change to a file its inputs match; it is affected
 * when it, or a step it waits for, is touched: a rerun upstream may change
 * what it receives.
 */
import { isWorkflow, type Workflow } from "../../dsl/Workflow.ts"
import type { StepDef } from "../../dsl/Step.ts"
import { resolveCacheOptions } from "../../dsl/cacheOptions.ts"
import type { Plan } from "../Plan.ts"
import { matches, patternsOf, type WatchPattern } from "./globs.ts"

/** The cache options a step runs with: its own, else its workflow's. */
const optionsOf = (def: StepDef, wf: Workflow<any>) => resolveCacheOptions(def.cache, wf.options?.cache)

/** The `cache.inputs` globs of a step, with those of every step of a sub-workflow it runs. */
const inputGlobs = (def: StepDef, wf: Workflow<any>): Array<string> => [
  ...(optionsOf(def, wf)?.inputs ?? []),
  ...(isWorkflow(def.run) ? def.run.steps.flatMap((inner) => inputGlobs(inner, def.run as Workflow<any>)) : [])
]

/** Each planned step's input patterns, by id; steps that declare no inputs are left out. */
export const inputPatterns = (plan: Plan, root: string): Map<string, ReadonlyArray<WatchPattern>> => {
  const inputs = new Map<string, ReadonlyArray<WatchPattern>>()
  plan.steps.forEach((def, i) => {
    const globs = inputGlobs(def, plan.workflow)
    if (globs.length > 0) inputs.set(plan.ids[i]!, globs.flatMap((glob) => patternsOf(root, glob)))
  })
  return inputs
}

/** The `cache.outputs` patterns of every step of the workflow (sub-workflows included): files steps write, not watched. */
export const outputPatterns = (wf: Workflow<any>, root: string): Array<WatchPattern> =>
  wf.steps.flatMap((def) => [
    ...(optionsOf(def, wf)?.outputs ?? []).flatMap((glob) => patternsOf(root, glob)),
    ...(isWorkflow(def.run) ? outputPatterns(def.run, root) : [])
  ])

/** The steps whose inputs match any of `files` (absolute paths), each with the files that touched it. */
export const touched = (
  inputs: ReadonlyMap<string, ReadonlyArray<WatchPattern>>,
  files: Iterable<string>
): Map<string, Array<string>> => {
  const hits = new Map<string, Array<string>>()
  for (const file of files) {
    for (const [id, patterns] of inputs) {
      if (!patterns.some((pattern) => matches(pattern, file))) continue
      const list = hits.get(id)
      if (list === undefined) hits.set(id, [file])
      else list.push(file)
    }
  }
  return hits
}

/**
 * `seeds` and every step that waits for one of them, directly or not, in the
 * plan's order; ids not in the plan are ignored.
 */
export const withDownstream = (plan: Plan, seeds: Iterable<string>): Array<string> => {
  const marked = new Uint8Array(plan.ids.length)
  const stack: Array<number> = []
  for (const id of seeds) {
    const i = plan.indexOf.get(id)
    if (i !== undefined && marked[i] === 0) {
      marked[i] = 1
      stack.push(i)
    }
  }
  while (stack.length > 0) {
    for (const next of plan.dependents[stack.pop()!]!) {
      if (marked[next] === 0) {
        marked[next] = 1
        stack.push(next)
      }
    }
  }
  return plan.ids.filter((_, i) => marked[i] === 1)
}

/** The steps a change to `files` affects: those whose inputs match, and everything downstream of them. */
export const affected = (plan: Plan, root: string, files: Iterable<string>): Array<string> =>
  withDownstream(plan, touched(inputPatterns(plan, root), files).keys())
