/**
 * Every option weft knows, of a step and of a workflow, in one table: what it
 * means and what is wrong with a value of it. The builder (`Step.ts`'s
 * unknown keys), specs (`Spec.ts`'s keys) and the definition check
 * (`check.ts`) all read these rows, so an option is declared once.
 *
 * The tables are typed against `StepOptions` and `WorkflowOptions`: a key of
 * either without a row (or a row for no key) does not compile. Adding a step
 * option is: its field in `StepOptions` (and its line in `makeStepDef`), its
 * row here and values for it in `options.property.test.ts` (the compiler asks
 * for all three), then the stage that uses it, its test and its line in
 * docs/steps.md. Nothing else lists options.
 */
import { alertsProblems } from "./alertOptions.ts"
import { cacheProblem } from "./cacheOptions.ts"
import { toMillis } from "./duration.ts"
import { invariantsProblems } from "./invariantOptions.ts"
import { permissionsProblems } from "./permissionsOptions.ts"
import { rateLimitsProblems, stepRateLimitProblem } from "./rateLimitOptions.ts"
import { capacityProblems, demandProblems } from "./resourceOptions.ts"
import { retryPolicy } from "./retryOptions.ts"
import { show } from "./show.ts"
import type { StepOptions } from "./Step.ts"
import type { WorkflowOptions } from "./Workflow.ts"

/** What is wrong with a value, each written for the workflow's author; empty when nothing is. */
export type Problems = ReadonlyArray<string>

/** One option: a row of the table. (Not named `Option`: that is Effect's.) */
export interface OptionRow {
  /** What the option does, in one line. */
  readonly doc: string
  /**
   * Every problem of a value that is set (never called with `undefined`),
   * given the workflow's options (a step's `rateLimit` and `resources` name
   * the workflow's). Allocates nothing for a good value: at 100,000 steps
   * this is most of the definition check.
   */
  readonly check: (value: unknown, workflow: WorkflowOptions) => Problems
}

/** A row for every key of `O`, and no other. */
export type OptionTable<O> = { readonly [K in keyof Required<O>]: OptionRow }

const fine: Problems = Object.freeze([])

const one = (problem: string | undefined): Problems => (problem === undefined ? fine : [problem])

const isBoolean = (field: string) => (value: unknown): Problems =>
  typeof value === "boolean" ? fine : [`${field} must be true or false, not ${show(value)}`]

const isWholeNumber = (field: string) => (value: unknown): Problems =>
  Number.isInteger(value) && (value as number) >= 1 ? fine : [`${field} must be a whole number of at least 1, not ${JSON.stringify(value)}`]

/** The shape of `needs` and `after`: a list of ids. Whether each names an earlier step is the graph's to say (`check.ts`, `Spec.ts`). */
const isStepIds = (field: "needs" | "after") => (list: unknown): Problems => {
  if (!Array.isArray(list)) return [`${field} must be a list of step ids, like ${field}: ["build"], not ${show(list)}`]
  let problems: Array<string> | undefined
  for (let j = 0; j < list.length; j++) {
    const ref: unknown = list[j]
    if (typeof ref !== "string") (problems ??= []).push(`${field} lists ${show(ref)}, which is not a step id: write ids as strings, like ${field}: ["build"]`)
  }
  return problems ?? fine
}

/** `timeout` must be above 0; `estimate` may be 0. */
const isDuration = (field: "timeout" | "estimate") => (value: unknown): Problems => {
  const ms = toMillis(value)
  if (ms === undefined) return [`${field} ${JSON.stringify(value)} is not a duration: use milliseconds or a string like "30 seconds"`]
  if (ms < 0 || (field === "timeout" && ms === 0)) return [`${field} must be positive, not ${JSON.stringify(value)}`]
  return fine
}

const isRetry = (value: unknown): Problems => {
  const policy = retryPolicy(value as StepOptions["retry"])
  return typeof policy === "string" ? [policy] : fine
}

/** The options of `.step` and `.each` (and of a spec's step), in the order the check reports them. */
export const stepOptions: OptionTable<StepOptions> = {
  needs: { doc: "earlier steps whose outputs the step receives", check: isStepIds("needs") },
  after: { doc: "earlier steps to wait for without their outputs", check: isStepIds("after") },
  optional: { doc: "a failure does not fail the run; dependents receive undefined", check: isBoolean("optional") },
  retry: { doc: "retries after a failed attempt: a number, or { times, delay, factor, maxDelay }", check: isRetry },
  timeout: { doc: "each attempt is interrupted after this long", check: isDuration("timeout") },
  estimate: { doc: "how long the step usually takes, until its history knows better", check: isDuration("estimate") },
  cache: { doc: "reuse an earlier run's result: true, or { inputs, env, outputs, key, ttl }", check: (value) => one(cacheProblem(value)) },
  rateLimit: { doc: "the workflow rate limit each attempt waits for", check: (value, workflow) => one(stepRateLimitProblem(value, workflow.rateLimits)) },
  resources: { doc: "what the step holds while it runs, from the workflow's resources", check: (value, workflow) => demandProblems(value, workflow.resources) },
  permissions: { doc: "what the step may see and touch (replaces the workflow's)", check: permissionsProblems },
  runsOn: {
    doc: "\"local\": run in the coordinator even when the run has workers",
    check: (value) => value === "local" ? fine : [`runsOn must be "local" (the step runs in the coordinator, not on a worker), not ${show(value)}`]
  }
}

/** The options of `workflow(name, options)` (a spec's top level), in the order the check reports them. */
export const workflowOptions: OptionTable<WorkflowOptions> = {
  concurrency: { doc: "how many steps may run at once", check: isWholeNumber("concurrency") },
  commandConcurrency: { doc: "how many command steps may run at once, within concurrency", check: isWholeNumber("commandConcurrency") },
  failFast: { doc: "stop the run at the first failure", check: isBoolean("failFast") },
  cache: { doc: "cache every step's result (a step's own cache wins)", check: (value) => one(cacheProblem(value)) },
  rateLimits: { doc: "named rate limits steps share: { openai: { limit, per } }", check: rateLimitsProblems },
  resources: { doc: "capacities of named resources steps hold: { db: 1 }", check: capacityProblems },
  permissions: { doc: "what every step may see and touch, unless it says otherwise", check: permissionsProblems },
  alerts: { doc: "when the run warns that something is slow or wasteful", check: alertsProblems },
  invariants: { doc: "named promises every run must keep, checked by verify: { \"deploy after tests\": (run) => … }", check: invariantsProblems }
}

/** The keys of `stepOptions`, for unknown-key reports. */
export const stepOptionKeys: ReadonlyArray<keyof StepOptions> = Object.keys(stepOptions) as Array<keyof StepOptions>

/** The keys of `workflowOptions`, for unknown-key reports. */
export const workflowOptionKeys: ReadonlyArray<keyof WorkflowOptions> = Object.keys(workflowOptions) as Array<keyof WorkflowOptions>
