/**
 * A workflow checked and laid out for running: every problem of the definition
 * found at once, steps indexed, edges resolved, and each step ranked by the
 * longest path from it to the end of the graph (the scheduler's priority).
 */
import { isCommand } from "../dsl/Command.ts"
import { DefinitionError, type Problem } from "../dsl/DefinitionError.ts"
import { suggestion } from "../dsl/didYouMean.ts"
import { alertsProblems } from "./alertOptions.ts"
import { show } from "../dsl/show.ts"
import type { StepDef } from "../dsl/Step.ts"
import { isWorkflow, type Workflow } from "../dsl/Workflow.ts"
import { cacheProblem } from "./cache/options.ts"
import { rateLimitsProblems, stepRateLimitProblem } from "./RateLimiter.ts"
import { permissionsProblems } from "./permissions/options.ts"
import { toMillis } from "./internal/duration.ts"
import type { StepInfo } from "./Event.ts"
import { retryPolicy, type RetryPolicy } from "./internal/retry.ts"
import { capacityProblems, demandProblems, planResources, type ResourcePlan } from "./Resources.ts"

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
}

const workflowOptionKeys = new Set(["concurrency", "commandConcurrency", "failFast", "cache", "rateLimits", "permissions", "resources", "alerts"])
const stepOptionKeys = ["needs", "after", "optional", "retry", "timeout", "estimate", "cache", "rateLimit", "permissions", "resources"]

/**
 * Shared by every step that waits for nothing or that nothing waits for:
 * frozen, so a slip that pushes to it fails loudly instead of wiring steps
 * together.
 */
const noSteps: ReadonlyArray<number> = Object.freeze([])

/** What one pass over a workflow finds: its problems, and what the layout reuses when there are none. */
interface Checked {
  readonly problems: Array<Problem>
  /** Each id's first step index. */
  readonly indexOf: Map<string, number>
  /**
   * The index of every reference, step by step, needs before after, in the
   * order written (-1 for one that is not an earlier step): the layout reads
   * these instead of looking every id up again.
   */
  readonly refs: Array<number>
  readonly retry: Array<RetryPolicy>
  readonly timeoutMs: Array<number | undefined>
}

/** Every problem of a workflow's definition; empty when it can run. */
export const check = (wf: Workflow<any>, options: PlanOptions = {}): Array<Problem> => checkAll(wf, options, true).problems

/**
 * Every problem of a workflow's definition except its references (`needs`,
 * `after`): for a spec, which lists steps in any order and resolves them
 * itself.
 */
export const checkOptions = (wf: Workflow<any>): Array<Problem> => checkAll(wf, {}, false).problems

/**
 * One pass over the steps. A valid step allocates nothing here (no closures,
 * no tuples, each id looked up once), since at 100,000 steps this pass was
 * most of `make`; the messages are built only when something is wrong.
 */
const checkAll = (wf: Workflow<any>, options: PlanOptions, references: boolean): Checked => {
  const problems: Array<Problem> = []
  if (typeof wf.name !== "string" || wf.name.trim() === "") problems.push({ message: "the workflow needs a name: workflow(\"build\")" })
  for (const key of Object.keys(wf.options ?? {})) {
    if (!workflowOptionKeys.has(key)) problems.push({ message: `unknown workflow option "${key}".${suggestion(key, workflowOptionKeys)}` })
  }
  for (const name of ["concurrency", "commandConcurrency"] as const) {
    const c = wf.options?.[name]
    if (c !== undefined && !(Number.isInteger(c) && c >= 1)) {
      problems.push({ message: `${name} must be a whole number of at least 1, not ${JSON.stringify(c)}` })
    }
  }
  const failFast = wf.options?.failFast
  if (failFast !== undefined && typeof failFast !== "boolean") problems.push({ message: `failFast must be true or false, not ${show(failFast)}` })
  const workflowCache = cacheProblem(wf.options?.cache)
  if (workflowCache !== undefined) problems.push({ message: workflowCache })
  for (const message of rateLimitsProblems(wf.options?.rateLimits)) problems.push({ message })
  const capacity = wf.options?.resources
  for (const p of capacityProblems(capacity)) problems.push(p)
  for (const message of permissionsProblems(wf.options?.permissions)) problems.push({ message })
  for (const message of alertsProblems(wf.options?.alerts)) problems.push({ message })
  const steps = wf.steps
  const n = steps.length
  const seen = new Map<string, number>()
  const refs: Array<number> = []
  const retry = new Array<RetryPolicy>(n)
  const timeoutMs = new Array<number | undefined>(n)
  const say = (def: StepDef, message: string) => problems.push({ step: String(def.id), message })
  const checkRefs = (def: StepDef, field: "needs" | "after", list: ReadonlyArray<string>) => {
    if (!Array.isArray(list)) return say(def, `${field} must be a list of step ids, like ${field}: ["build"], not ${show(list)}`)
    for (let j = 0; j < list.length; j++) {
      const ref = list[j]!
      if (typeof ref !== "string") {
        refs.push(-1)
        say(def, `${field} lists ${show(ref)}, which is not a step id: write ids as strings, like ${field}: ["build"]`)
        continue
      }
      const at = ref === def.id ? undefined : seen.get(ref)
      refs.push(at ?? -1)
      if (at !== undefined) continue
      if (ref === def.id) say(def, `${field} names the step itself`)
      // Rare, so a scan of every step is fine here.
      else if (steps.some((other) => other.id === ref)) say(def, `${field} "${ref}", which is declared after it: declare "${ref}" first`)
      else say(def, `${field} "${ref}", which is not a step of this workflow.${suggestion(ref, steps.map((s) => s.id))}`)
    }
  }
  for (let i = 0; i < n; i++) {
    const def = steps[i]!
    const id = def.id
    if (typeof id !== "string" || id === "") say(def, "a step needs a non-empty string id")
    const first = seen.get(id)
    if (first !== undefined) say(def, `the id "${id}" is used twice (steps ${first + 1} and ${i + 1}): give each step its own id`)
    for (const key of def.unknownOptions) say(def, `unknown option "${key}".${suggestion(key, stepOptionKeys)}`)
    if (typeof def.optional !== "boolean") say(def, `optional must be true or false, not ${show(def.optional)}`)
    if (references) {
      checkRefs(def, "needs", def.needs)
      checkRefs(def, "after", def.after)
    }
    const run = def.run
    if (isCommand(run)) {
      if (run.argv.length === 0 || run.argv[0] === "") say(def, "its command is empty")
    } else if (isWorkflow(run)) {
      for (const p of check(run)) say(def, `in sub-workflow "${run.name}": ${p.step === undefined ? "" : `step "${p.step}": `}${p.message}`)
    } else if (typeof run !== "function") {
      say(def, "its runner must be a function, a command (sh`...` or cmd([...])) or a workflow")
    }
    const policy = retryPolicy(def.retry)
    if (typeof policy === "string") say(def, policy)
    else retry[i] = policy
    timeoutMs[i] = def.timeout === undefined ? undefined : checkDuration(def, "timeout", def.timeout, say)
    if (def.estimate !== undefined) checkDuration(def, "estimate", def.estimate, say)
    if (def.cache !== undefined) {
      const problem = cacheProblem(def.cache)
      if (problem !== undefined) say(def, problem)
    }
    if (def.permissions !== undefined) for (const message of permissionsProblems(def.permissions)) say(def, message)
    if (def.resources !== undefined) for (const m of demandProblems(def.resources, capacity)) say(def, m)
    if (def.rateLimit !== undefined) {
      const problem = stepRateLimitProblem(def.rateLimit, wf.options?.rateLimits)
      if (problem !== undefined) say(def, problem)
    }
    if (first === undefined) seen.set(id, i)
  }
  for (const id of options.only ?? []) {
    if (!seen.has(id)) problems.push({ step: id, message: `there is no step "${id}" to run.${suggestion(id, seen.keys())}` })
  }
  return { problems, indexOf: seen, refs, retry, timeoutMs }
}

/** The milliseconds of a step's `timeout` or `estimate`, saying what is wrong with it if anything. */
const checkDuration = (
  def: StepDef,
  field: "timeout" | "estimate",
  value: unknown,
  say: (def: StepDef, message: string) => void
): number | undefined => {
  const ms = toMillis(value)
  if (ms === undefined) say(def, `${field} ${JSON.stringify(value)} is not a duration: use milliseconds or a string like "30 seconds"`)
  else if (ms < 0 || (field === "timeout" && ms === 0)) say(def, `${field} must be positive, not ${JSON.stringify(value)}`)
  return ms
}

/**
 * Checks and lays out a workflow.
 *
 * @throws DefinitionError with every problem found, when the workflow cannot run.
 */
export const make = (wf: Workflow<any>, options: PlanOptions = {}): Plan => {
  const checked = checkAll(wf, options, true)
  if (checked.problems.length > 0) throw new DefinitionError({ file: options.file, workflow: wf.name, problems: checked.problems })
  const all = wf.steps
  const kept = select(all, options.only, checked.indexOf)
  const steps = kept === undefined ? all : kept.map((k) => all[k]!)
  const n = steps.length
  // The index of each original step in the plan (-1: not selected); a kept
  // step's references are all kept too.
  let position: Int32Array | undefined
  let indexOf = checked.indexOf
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
      const d = position === undefined ? checked.refs[at]! : position[checked.refs[at]!]!
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
  for (let i = 0; i < n; i++) {
    for (const d of deps[i]!) (dependents[d] as Array<number>)[filled[d]!++] = i
  }

  const weight = new Float64Array(n)
  const estimateMs = new Float64Array(n)
  const retry = new Array<RetryPolicy>(n)
  const timeoutMs = new Array<number | undefined>(n)
  for (let i = 0; i < n; i++) {
    const def = steps[i]!
    const k = kept === undefined ? i : kept[i]!
    const ms = options.durations?.get(def.id) ?? (def.estimate === undefined ? undefined : toMillis(def.estimate))
    weight[i] = ms === undefined || ms <= 0 ? 1 : ms
    estimateMs[i] = ms ?? NaN
    retry[i] = checked.retry[k]!
    timeoutMs[i] = checked.timeoutMs[k]
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
    rank: longestPaths(dependents, weight),
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
    for (const d of dependents[i]!) if (rank[d]! > longest) longest = rank[d]!
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
