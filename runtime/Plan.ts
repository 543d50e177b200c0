/**
 * A workflow checked and laid out for running: every problem of the definition
 * found at once (by dsl/check.ts, which the plan only calls), steps indexed,
 * edges resolved, and each step ranked by the longest path from it to the end
 * of the graph (the scheduler's priority).
 */
import { checkWorkflow, declared, type Checked } from "../dsl/check.ts"
import { DefinitionError, type Problem } from "../dsl/DefinitionError.ts"
import { suggestion } from "../dsl/didYouMean.ts"
import { toMillis } from "../dsl/duration.ts"
import { retryPolicy, type RetryPolicy } from "../dsl/retryOptions.ts"
import type { StepDef } from "../dsl/Step.ts"
import type { Workflow } from "../dsl/Workflow.ts"
import type { StepInfo } from "./Event.ts"
import { planResources, type ResourcePlan } from "./Resources.ts"

export interface Plan {
  readonly workflow: Workflow<any>
  readonly steps: ReadonlyArray<StepDef>
  readonly ids: ReadonlyArray<string>
  readonly indexOf: ReadonlyMap<string, number>
  /** For each step, the steps it waits for (needs and after, without repeats): its needs first, in the order named. */
  readonly deps: ReadonlyArray<ReadonlyArray<number>>
  /**
   * For each step, how many of its `deps` come from `needs`: the steps whose
   * outputs are its inputs, keyed by their ids, so starting a step need not
   * read its definition's strings.
   */
  readonly inputCount: ArrayLike<number>
  /** For each step, the steps that wait for it. */
  readonly dependents: ReadonlyArray<ReadonlyArray<number>>
  /** Estimated milliseconds per step: `estimate`, else a known duration, else 1. */
  readonly weight: ArrayLike<number>
  /** Per step, `estimate`, else a known duration; NaN when neither is known (its `weight` is then a guess). */
  readonly estimateMs: ArrayLike<number>
  /** Longest weighted path from the step to the end of the graph, the step included. */
  readonly rank: ArrayLike<number>
  readonly retry: ReadonlyArray<RetryPolicy>
  readonly timeoutMs: ReadonlyArray<number | undefined>
  /** The workflow's resources and each step's demand; absent when it declares none. */
  readonly resources?: ResourcePlan | undefined
}

export interface PlanOptions {
  /** The file the workflow came from, for messages. */
  readonly file?: string | undefined
  /** Run only these steps and what they depend on. */
  readonly only?: ReadonlyArray<string> | undefined
  /**
   * Known durations (from history: each step's median of its recent real
   * runs). They supersede a step's `estimate`, which is a guess written once
   * and never corrected; the estimate stands until the step has run.
   */
  readonly durations?: ReadonlyMap<string, number> | undefined
  /**
   * Each step's priority instead of its longest path to the end (higher
   * starts first, ties by declaration order): `verify` draws these to try
   * other orders among ready steps. Steps it does not name get 0.
   */
  readonly priority?: ReadonlyMap<string, number> | undefined
}

/**
 * Shared by every step that waits for nothing or that nothing waits for:
 * frozen, so a slip that pushes to it fails loudly instead of wiring steps
 * together.
 */
const noSteps: ReadonlyArray<number> = Object.freeze([])

/** Every problem of a workflow's definition (`checkWorkflow`), and of `only`; empty when it can run. */
export const check = (wf: Workflow<any>, options: PlanOptions = {}): Array<Problem> => checked(wf, options).problems

/** The definition check, then the steps `only` names: each must be one. */
const checked = (wf: Workflow<any>, options: PlanOptions): Checked => {
  const result = checkWorkflow(wf)
  for (const id of options.only ?? []) {
    if (!result.indexOf.has(id)) result.problems.push({ step: id, message: `there is no step "${id}" to run.${suggestion(id, declared(result.indexOf))}` })
  }
  return result
}

/**
 * Checks and lays out a workflow.
 *
 * @throws DefinitionError with every problem found, when the workflow cannot run.
 */
export const make = (wf: Workflow<any>, options: PlanOptions = {}): Plan => {
  const { problems, indexOf: firstOf, refs } = checked(wf, options)
  if (problems.length > 0) throw new DefinitionError({ file: options.file, workflow: wf.name, problems })
  const all = wf.steps
  const kept = select(all, options.only, firstOf)
  const steps = kept === undefined ? all : kept.map((k) => all[k]!)
  const n = steps.length
  // The index of each original step in the plan (-1: not selected); a kept
  // step's references are all kept too.
  let position: Int32Array | undefined
  let indexOf = firstOf
  if (kept !== undefined) {
    position = new Int32Array(all.length).fill(-1)
    indexOf = new Map()
    kept.forEach((k, i) => {
      position![k] = i
      indexOf.set(all[k]!.id, i)
    })
  }

  // Deps: each step's references in order, without repeats (a stamp per step
  // finds them in O(1), even for a gather step that needs 100,000 others).
  // Arrays are cut to size from one scratch array, and steps that wait for
  // nothing share one empty array.
  const deps = new Array<ReadonlyArray<number>>(n)
  const inputCount = new Int32Array(n)
  const fanOut = new Int32Array(n)
  const stamp = new Int32Array(n)
  const scratch: Array<number> = []
  for (let i = 0, at = 0, k = 0; k < all.length; k++) {
    const def = all[k]!
    const count = def.needs.length + def.after.length
    if (position !== undefined && position[k] === -1) {
      at += count
      continue
    }
    scratch.length = 0
    for (let end = at + count, needsEnd = at + def.needs.length; at < end; at++) {
      const d = position === undefined ? refs[at]! : position[refs[at]!]!
      if (stamp[d] === i + 1) continue
      stamp[d] = i + 1
      scratch.push(d)
      fanOut[d]!++
      if (at < needsEnd) inputCount[i]!++
    }
    deps[i] = scratch.length === 0 ? noSteps : scratch.slice()
    i++
  }
  const dependents = new Array<ReadonlyArray<number>>(n)
  const filled = new Int32Array(n)
  for (let i = 0; i < n; i++) dependents[i] = fanOut[i] === 0 ? noSteps : new Array<number>(fanOut[i]!)
  // Indexed loops here and below: a cold process runs this once, mostly
  // unoptimized, where \`for of\` allocates an iterator result per element.
  for (let i = 0; i < n; i++) {
    const ds = deps[i]!
    for (let j = 0; j < ds.length; j++) (dependents[ds[j]!] as Array<number>)[filled[ds[j]!]!++] = i
  }

  const weight = new Float64Array(n)
  const estimateMs = new Float64Array(n)
  const retry = new Array<RetryPolicy>(n)
  const timeoutMs = new Array<number | undefined>(n)
  for (let i = 0; i < n; i++) {
    const def = steps[i]!
    const ms = options.durations?.get(def.id) ?? (def.estimate === undefined ? undefined : toMillis(def.estimate))
    weight[i] = ms === undefined || ms <= 0 ? 1 : ms
    estimateMs[i] = ms ?? NaN
    // Checked above: a policy, not a problem.
    retry[i] = retryPolicy(def.retry) as RetryPolicy
    timeoutMs[i] = def.timeout === undefined ? undefined : toMillis(def.timeout)
  }
  return {
    workflow: wf,
    steps,
    ids: steps.map((def) => def.id),
    indexOf,
    deps,
    inputCount,
    dependents,
    weight,
    estimateMs,
    rank: options.priority === undefined ? longestPaths(dependents, weight) : Float64Array.from(steps, (def) => options.priority!.get(def.id) ?? 0),
    retry,
    timeoutMs,
    resources: planResources(steps, wf.options?.resources)
  }
}

/** The indices of the named steps and everything they depend on, in declaration order; `undefined` for all. */
const select = (
  steps: ReadonlyArray<StepDef>,
  only: ReadonlyArray<string> | undefined,
  indexOf: ReadonlyMap<string, number>
): Array<number> | undefined => {
  if (only === undefined || only.length === 0) return undefined
  const keep = new Uint8Array(steps.length)
  const stack = [...only]
  while (stack.length > 0) {
    const k = indexOf.get(stack.pop()!)!
    if (keep[k] === 1) continue
    keep[k] = 1
    stack.push(...steps[k]!.needs, ...steps[k]!.after)
  }
  const kept: Array<number> = []
  keep.forEach((flag, k) => {
    if (flag === 1) kept.push(k)
  })
  return kept
}

/**
 * For each step, the longest weighted path from it to a sink. Declaration order
 * is topological (a step only waits for earlier ones), so one backward pass does.
 */
export const longestPaths = (
  dependents: ReadonlyArray<ReadonlyArray<number>>,
  weight: ArrayLike<number>
): Float64Array => {
  const rank = new Float64Array(weight.length)
  for (let i = weight.length - 1; i >= 0; i--) {
    let longest = 0
    const ds = dependents[i]!
    for (let j = 0; j < ds.length; j++) if (rank[ds[j]!]! > longest) longest = rank[ds[j]!]!
    rank[i] = weight[i]! + longest
  }
  return rank
}

/** The steps as `run:start` announces them: ids, what each waits for and its estimate if known, in dependency order. */
export const stepInfos = (plan: Pick<Plan, "ids" | "deps"> & Partial<Pick<Plan, "estimateMs">>): Array<StepInfo> =>
  plan.ids.map((id, i) => {
    const deps = plan.deps[i]!.map((d) => plan.ids[d]!)
    const estimateMs = plan.estimateMs?.[i] ?? NaN
    return Number.isNaN(estimateMs) ? { id, deps } : { id, deps, estimateMs }
  })

/** Dependency level of each step: 0 for steps that wait for nothing, else one more than its deepest dependency. */
export const levels = (plan: Pick<Plan, "deps">): Array<number> => {
  const level: Array<number> = []
  plan.deps.forEach((ds, i) => {
    level[i] = ds.reduce((max, d) => Math.max(max, level[d]! + 1), 0)
  })
  return level
}
