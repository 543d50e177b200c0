/**
 * Workflows from data (JSON, YAML, or objects built at run time). Unlike the
 * builder, a spec may list steps in any order, so it can describe a cycle:
 * `fromSpec` rejects one with its full path.
 */
import * as Graph from "effect/Graph"
import { shell, cmd, isCommand } from "./Command.ts"
import { DefinitionError, type Problem } from "./DefinitionError.ts"
import { suggestion } from "./internal/didYouMean.ts"
import { isSecret, secret, type Permissions, type Secret } from "./Permissions.ts"
import { makeStepDef, type CacheOptions, type RetryOption, type StepDef, type StepFunction } from "./Step.ts"
import { isWorkflow, Workflow, type RateLimitOption, type WorkflowOptions } from "./Workflow.ts"
// The plan's definition check, so a spec's options are checked exactly as the builder's are.
import { check } from "../runtime/Plan.ts"

/** One step as data. `run` is a function, a shell script, or an argv array (no shell). */
export interface StepSpec {
  readonly id: string
  readonly run: StepFunction<any, unknown> | string | ReadonlyArray<string> | Workflow<any>
  readonly needs?: ReadonlyArray<string>
  readonly after?: ReadonlyArray<string>
  readonly optional?: boolean
  readonly retry?: RetryOption
  readonly timeout?: number | string
  readonly estimate?: number | string
  readonly cache?: boolean | CacheOptions
  /** The workflow rate limit (a key of its `rateLimits`) each attempt waits for. */
  readonly rateLimit?: string
  /** What it holds while it runs, from the workflow's `resources`: `{ db: 1 }`. */
  readonly resources?: Readonly<Record<string, number>>
  /** What it may see and touch (`env`, `read`, `write`, ...); in JSON or YAML a secret is `{ secret: "NAME" }`. */
  readonly permissions?: SpecPermissions
  /** For commands: the working directory, relative to the workflow's folder. */
  readonly cwd?: string
  /** For commands: variables added to the environment. */
  readonly env?: Readonly<Record<string, string>>
}

/** A workflow as data. */
export interface Spec {
  readonly name: string
  readonly concurrency?: number
  readonly failFast?: boolean
  readonly cache?: boolean | CacheOptions
  /** Named rate limits steps share with `rateLimit: "<name>"`: `{ openai: { limit: 3, per: "1 second" } }`. */
  readonly rateLimits?: Readonly<Record<string, RateLimitOption>>
  /** Capacities of named resources steps hold with their own `resources`: `{ db: 1, gpu: 2 }`. */
  readonly resources?: Readonly<Record<string, number>>
  /** Every step's default `permissions` (a step's own replace them). */
  readonly permissions?: SpecPermissions
  readonly steps: ReadonlyArray<StepSpec>
}

/** `permissions` as data: `{ env: ["API_URL", { secret: "API_TOKEN" }], write: ["dist/**"] }`, or with `secret(...)` from code. */
export interface SpecPermissions extends Omit<Permissions, "env"> {
  readonly env?: ReadonlyArray<string | Secret | { readonly secret: string }>
}

/** Turns data's `{ secret: "NAME" }` into `secret("NAME")`; anything else is left for the plan's check to report. */
const fromSpecPermissions = (permissions: unknown): unknown => {
  const env = (permissions as { env?: unknown } | undefined)?.env
  if (!Array.isArray(env)) return permissions
  return {
    ...(permissions as object),
    env: env.map((entry: unknown) => {
      const name = (entry as { secret?: unknown } | null)?.secret
      return typeof entry === "object" && entry !== null && !isSecret(entry) && Object.keys(entry).length === 1 && typeof name === "string"
        ? secret(name)
        : entry
    })
  }
}

/**
 * The plan's messages name the builder's spelling where a spec's differs: a
 * secret is `{ secret: "NAME" }`, workflow options sit at the spec's top level.
 */
const inSpecTerms = (message: string): string =>
  message
    .replace(/secret\(("(?:[^"\\]|\\.)*")\)/g, "{ secret: $1 }")
    .replace(/workflow\((?:name|"[^"]*"), \{ (.*) \}\)/, "$1 at the top of the spec")
    .replace(/^the workflow needs a name: .*$/, `the spec needs a name, like name: "build"`)

const specKeys = ["name", "concurrency", "failFast", "cache", "rateLimits", "resources", "permissions", "steps"]
const stepKeys = ["id", "run", "needs", "after", "optional", "retry", "timeout", "estimate", "cache", "rateLimit", "resources", "permissions", "cwd", "env"]

/**
 * Builds a workflow from data. Steps may be listed in any order.
 *
 * @throws DefinitionError listing every problem: unknown keys, bad runners, unknown ids, cycles (`a → b → a`).
 * @example
 * fromSpec({ name: "ci", steps: [
 *   { id: "test", run: "npm test", needs: ["build"] },
 *   { id: "build", run: ["tsc", "-b"] }
 * ] })
 */
export const fromSpec = (spec: Spec, options: { readonly file?: string } = {}): Workflow<Record<string, unknown>> => {
  const problems: Array<Problem> = []
  const fail = (): never => {
    throw new DefinitionError({ file: options.file, workflow: typeof spec?.name === "string" ? spec.name : undefined, problems })
  }
  if (typeof spec !== "object" || spec === null) {
    problems.push({ message: "a workflow spec must be an object like { name, steps: [...] }" })
    return fail()
  }
  for (const key of Object.keys(spec)) {
    if (!specKeys.includes(key)) problems.push({ message: `unknown key "${key}".${suggestion(key, specKeys)}` })
  }
  if (!Array.isArray(spec.steps)) {
    problems.push({ message: "steps must be a list of { id, run, needs? }" })
    return fail()
  }
  const ids = spec.steps.map((s) => s?.id).filter((id): id is string => typeof id === "string")
  const defs: Array<StepDef> = []
  // One per listed step, in the order written, for the plan's check (a step whose runner is wrong gets a stand-in).
  const listed: Array<StepDef> = []
  spec.steps.forEach((step, i) => {
    const id = typeof step?.id === "string" && step.id !== "" ? step.id : undefined
    const say = (message: string) => problems.push({ step: id ?? `#${i + 1}`, message })
    if (typeof step !== "object" || step === null) {
      listed.push(makeStepDef(`#${i + 1}`, {}, standIn))
      return say("each step must be an object like { id, run }")
    }
    if (id === undefined) say("a step needs an id (a non-empty string)")
    for (const key of Object.keys(step)) {
      if (!stepKeys.includes(key)) say(`unknown key "${key}".${suggestion(key, stepKeys)}`)
    }
    const { id: _id, run: _run, cwd: _cwd, env: _env, ...rest } = step
    const optionsOnly = Object.fromEntries(Object.entries(rest).filter(([key]) => stepKeys.includes(key)))
    if (optionsOnly.permissions !== undefined) optionsOnly.permissions = fromSpecPermissions(optionsOnly.permissions)
    const run = toRunner(step)
    // The spec resolves needs/after itself (in any order); the plan checks everything else.
    listed.push(makeStepDef(id ?? `#${i + 1}`, { ...optionsOnly, needs: [], after: [] }, run ?? standIn))
    if (run === undefined) return say("run must be a shell command (a string), an argv list, a function or a workflow")
    defs.push(makeStepDef(id ?? `#${i + 1}`, optionsOnly, run))
  })
  for (const def of defs) {
    for (const ref of [...def.needs, ...def.after]) {
      if (!ids.includes(ref)) problems.push({ step: def.id, message: `needs "${ref}", which is not a step of this workflow.${suggestion(ref, ids)}` })
    }
  }
  const workflowOptions: WorkflowOptions = {
    ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }),
    ...(spec.failFast === undefined ? {} : { failFast: spec.failFast }),
    ...(spec.cache === undefined ? {} : { cache: spec.cache }),
    ...(spec.rateLimits === undefined ? {} : { rateLimits: spec.rateLimits }),
    ...(spec.resources === undefined ? {} : { resources: spec.resources }),
    ...(spec.permissions === undefined ? {} : { permissions: fromSpecPermissions(spec.permissions) as Permissions })
  }
  // Options (rate limits, resources, permissions, retry, cache, ...) and duplicate ids, checked by the plan as for the builder.
  for (const p of check(Workflow.make(spec.name, workflowOptions, listed))) problems.push({ ...p, message: inSpecTerms(p.message) })
  if (problems.length > 0) return fail()
  const ordered = inDependencyOrder(defs, problems)
  if (problems.length > 0) return fail()
  return Workflow.make(spec.name, workflowOptions, ordered)
}

/** Stands in for a runner the spec got wrong (already reported), so the plan's check still sees the step's options. */
const standIn = () => undefined

const toRunner = (step: StepSpec) => {
  const { run } = step
  const options = { ...(step.cwd === undefined ? {} : { cwd: step.cwd }), ...(step.env === undefined ? {} : { env: step.env }) }
  if (typeof run === "string" && run.trim() !== "") return shell(run, options)
  if (Array.isArray(run) && run.length > 0 && run.every((arg) => typeof arg === "string")) return cmd(run, options)
  if (typeof run === "function" || isCommand(run) || isWorkflow(run)) return run as StepFunction<any, unknown>
  return undefined
}

/** Steps ordered so each comes after what it waits for (declaration order otherwise), or a cycle reported. */
const inDependencyOrder = (defs: ReadonlyArray<StepDef>, problems: Array<Problem>): Array<StepDef> => {
  const index = new Map(defs.map((def, i) => [def.id, i]))
  const graph = Graph.directed<string, void>((g) => {
    for (const def of defs) Graph.addNode(g, def.id)
    defs.forEach((def, i) => {
      for (const ref of new Set([...def.needs, ...def.after])) Graph.addEdge(g, index.get(ref)!, i, undefined)
    })
  })
  const cycle = Graph.findCycle(graph)
  if (cycle._tag === "Some") {
    const path = cycle.value.path.map((n) => defs[n]!.id)
    problems.push({ step: path[0]!, message: `steps wait for each other in a cycle: ${path.join(" → ")}. Remove one of these needs/after.` })
    return []
  }
  return Array.from(Graph.indices(Graph.topo(graph)), (n) => defs[n]!)
}
