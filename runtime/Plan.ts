/**
 * A workflow checked and laid out for running: every problem of the definition
 * found at once, steps indexed, edges resolved, and each step ranked by the
 * longest path from it to the end of the graph (the scheduler's priority).
 */
import { isCommand } from "../dsl/Command.ts"
import { DefinitionError, type Problem } from "../dsl/DefinitionError.ts"
import { suggestion } from "../dsl/internal/didYouMean.ts"
import type { StepDef } from "../dsl/Step.ts"
import { isWorkflow, type Workflow } from "../dsl/Workflow.ts"
import { toMillis } from "./internal/duration.ts"
import { retryPolicy, type RetryPolicy } from "./internal/retry.ts"

export interface Plan {
  readonly workflow: Workflow<any>
  readonly steps: ReadonlyArray<StepDef>
  readonly ids: ReadonlyArray<string>
  readonly indexOf: ReadonlyMap<string, number>
  /** For each step, the steps it waits for (needs and after, without repeats). */
  readonly deps: ReadonlyArray<ReadonlyArray<number>>
  /** For each step, the steps that wait for it. */
  readonly dependents: ReadonlyArray<ReadonlyArray<number>>
  /** Estimated milliseconds per step: `estimate`, else a known duration, else 1. */
  readonly weight: ReadonlyArray<number>
  /** Longest weighted path from the step to the end of the graph, the step included. */
  readonly rank: ReadonlyArray<number>
  readonly retry: ReadonlyArray<RetryPolicy>
  readonly timeoutMs: ReadonlyArray<number | undefined>
}

export interface PlanOptions {
  /** The file the workflow came from, for messages. */
  readonly file?: string | undefined
  /** Run only these steps and what they depend on. */
  readonly only?: ReadonlyArray<string> | undefined
  /** Known durations (from history), used where a step has no `estimate`. */
  readonly durations?: ReadonlyMap<string, number> | undefined
}

const workflowOptionKeys = new Set(["concurrency", "failFast"])

/** Every problem of a workflow's definition; empty when it can run. */
export const check = (wf: Workflow<any>, options: PlanOptions = {}): Array<Problem> => {
  const problems: Array<Problem> = []
  if (typeof wf.name !== "string" || wf.name.trim() === "") problems.push({ message: "the workflow needs a name: workflow(\"build\")" })
  for (const key of Object.keys(wf.options ?? {})) {
    if (!workflowOptionKeys.has(key)) problems.push({ message: `unknown workflow option "${key}".${suggestion(key, workflowOptionKeys)}` })
  }
  const c = wf.options?.concurrency
  if (c !== undefined && !(Number.isInteger(c) && c >= 1)) {
    problems.push({ message: `concurrency must be a whole number of at least 1, not ${JSON.stringify(c)}` })
  }
  const seen = new Map<string, number>()
  wf.steps.forEach((def, i) => {
    const step = String(def.id)
    const say = (message: string) => problems.push({ step, message })
    if (typeof def.id !== "string" || def.id === "") say("a step needs a non-empty string id")
    if (seen.has(def.id)) say(`the id "${def.id}" is used twice (steps ${seen.get(def.id)! + 1} and ${i + 1}): give each step its own id`)
    for (const key of def.unknownOptions) say(`unknown option "${key}".${suggestion(key, ["needs", "after", "optional", "retry", "timeout", "estimate"])}`)
    for (const [field, refs] of [["needs", def.needs], ["after", def.after]] as const) {
      if (!Array.isArray(refs)) {
        say(`${field} must be a list of step ids, like ${field}: ["build"]`)
        continue
      }
      for (const ref of refs) {
        if (ref === def.id) say(`${field} names the step itself`)
        else if (seen.has(ref)) continue
        else if (wf.steps.some((other) => other.id === ref)) say(`${field} "${ref}", which is declared after it: declare "${ref}" first`)
        else say(`${field} "${ref}", which is not a step of this workflow.${suggestion(ref, wf.steps.map((s) => s.id))}`)
      }
    }
    if (typeof def.run !== "function" && !isCommand(def.run) && !isWorkflow(def.run)) {
      say("its runner must be a function, a command (sh`...` or cmd([...])) or a workflow")
    }
    if (isCommand(def.run) && (def.run.argv.length === 0 || def.run.argv[0] === "")) say("its command is empty")
    if (isWorkflow(def.run)) {
      for (const p of check(def.run)) say(`in sub-workflow "${def.run.name}": ${p.step === undefined ? "" : `step "${p.step}": `}${p.message}`)
    }
    if (typeof retryPolicy(def.retry) === "string") say(retryPolicy(def.retry) as string)
    for (const [field, value] of [["timeout", def.timeout], ["estimate", def.estimate]] as const) {
      if (value === undefined) continue
      const ms = toMillis(value)
      if (ms === undefined) say(`${field} ${JSON.stringify(value)} is not a duration: use milliseconds or a string like "30 seconds"`)
      else if (ms < 0 || (field === "timeout" && ms === 0)) say(`${field} must be positive, not ${JSON.stringify(value)}`)
    }
    if (!seen.has(def.id)) seen.set(def.id, i)
  })
  for (const id of options.only ?? []) {
    if (!seen.has(id)) problems.push({ step: id, message: `there is no step "${id}" to run.${suggestion(id, seen.keys())}` })
  }
  return problems
}

/**
 * Checks and lays out a workflow.
 *
 * @throws DefinitionError with every problem found, when the workflow cannot run.
 */
export const make = (wf: Workflow<any>, options: PlanOptions = {}): Plan => {
  const problems = check(wf, options)
  if (problems.length > 0) throw new DefinitionError({ file: options.file, workflow: wf.name, problems })
  const steps = select(wf.steps, options.only)
  const indexOf = new Map<string, number>()
  steps.forEach((def, i) => indexOf.set(def.id, i))
  const deps = steps.map((def) => {
    const set = new Set<number>()
    for (const ref of def.needs) set.add(indexOf.get(ref)!)
    for (const ref of def.after) set.add(indexOf.get(ref)!)
    return [...set]
  })
  const dependents: Array<Array<number>> = steps.map(() => [])
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]!.push(i)))
  const weight = steps.map((def) => {
    const ms = def.estimate === undefined ? options.durations?.get(def.id) : toMillis(def.estimate)
    return ms === undefined || ms <= 0 ? 1 : ms
  })
  return {
    workflow: wf,
    steps,
    ids: steps.map((def) => def.id),
    indexOf,
    deps,
    dependents,
    weight,
    rank: longestPaths(dependents, weight),
    retry: steps.map((def) => retryPolicy(def.retry) as RetryPolicy),
    timeoutMs: steps.map((def) => (def.timeout === undefined ? undefined : toMillis(def.timeout)))
  }
}

/** The named steps and everything they depend on, in declaration order. */
const select = (steps: ReadonlyArray<StepDef>, only: ReadonlyArray<string> | undefined): ReadonlyArray<StepDef> => {
  if (only === undefined || only.length === 0) return steps
  const byId = new Map(steps.map((def) => [def.id, def]))
  const keep = new Set<string>()
  const stack = [...only]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (keep.has(id)) continue
    keep.add(id)
    const def = byId.get(id)!
    stack.push(...def.needs, ...def.after)
  }
  return steps.filter((def) => keep.has(def.id))
}

/**
 * For each step, the longest weighted path from it to a sink. Declaration order
 * is topological (a step only waits for earlier ones), so one backward pass does.
 */
export const longestPaths = (
  dependents: ReadonlyArray<ReadonlyArray<number>>,
  weight: ReadonlyArray<number>
): Array<number> => {
  const rank = new Array<number>(weight.length).fill(0)
  for (let i = weight.length - 1; i >= 0; i--) {
    let longest = 0
    for (const d of dependents[i]!) if (rank[d]! > longest) longest = rank[d]!
    rank[i] = weight[i]! + longest
  }
  return rank
}

/** The heaviest chain of steps through the graph under `weight`, as indices. */
export const criticalPath = (plan: Pick<Plan, "deps" | "dependents">, weight: ReadonlyArray<number>): Array<number> => {
  const rank = longestPaths(plan.dependents, weight)
  const path: Array<number> = []
  let best = -1
  rank.forEach((r, i) => {
    if (plan.deps[i]!.length === 0 && (best === -1 || r > rank[best]!)) best = i
  })
  while (best !== -1) {
    path.push(best)
    let next = -1
    for (const d of plan.dependents[best]!) if (next === -1 || rank[d]! > rank[next]!) next = d
    best = next
  }
  return path
}

/** Dependency level of each step: 0 for steps that wait for nothing, else one more than its deepest dependency. */
export const levels = (plan: Pick<Plan, "deps">): Array<number> => {
  const level: Array<number> = []
  plan.deps.forEach((ds, i) => {
    level[i] = ds.reduce((max, d) => Math.max(max, level[d]! + 1), 0)
  })
  return level
}
