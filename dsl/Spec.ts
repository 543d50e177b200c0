/**
 * Workflows from data (JSON, YAML, or objects built at run time). Unlike the
 * builder, a spec may list steps in any order, so it can describe a cycle:
 * `fromSpec` rejects one with its full path.
 */
import { shell, cmd, isCommand } from "./Command.ts"
import { DefinitionError, type Problem } from "./DefinitionError.ts"
import { cycles, dependencyOrder } from "./internal/dependencyOrder.ts"
import { suggestion } from "./didYouMean.ts"
import { show } from "./show.ts"
import { commandFieldProblems, refsOf } from "./internal/specFields.ts"
import { inSpecTerms } from "./internal/specTerms.ts"
import { checkWorkflow, declared } from "./check.ts"
import { stepOptionKeys, workflowOptionKeys } from "./options.ts"
import { isSecret, secret, type Permissions, type Secret } from "./Permissions.ts"
import { makeStepDef, none, type StepDef, type StepFunction, type StepOptions } from "./Step.ts"
import { isWorkflow, Workflow, type WorkflowOptions } from "./Workflow.ts"

/**
 * One step as data: the builder's options (`StepOptions`), with a secret
 * written `{ secret: "NAME" }`. `run` is a function, a shell script, or an
 * argv array (no shell).
 */
export interface StepSpec extends Omit<StepOptions<string, string>, "permissions"> {
  readonly id: string
  readonly run: StepFunction<any, unknown> | string | ReadonlyArray<string> | Workflow<any>
  /** What it may see and touch (`env`, `read`, `write`, ...); in JSON or YAML a secret is `{ secret: "NAME" }`. */
  readonly permissions?: SpecPermissions
  /** For commands: the working directory, relative to the workflow's folder. */
  readonly cwd?: string
  /** For commands: variables added to the environment. */
  readonly env?: Readonly<Record<string, string>>
}

/** A workflow as data: its name, the builder's workflow options (`WorkflowOptions`) at the top, and its steps. */
export interface Spec extends Omit<WorkflowOptions, "permissions"> {
  readonly name: string
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

/** A spec's keys: the option table's, and what only a spec has. */
const specKeys = ["name", ...workflowOptionKeys, "steps"]
const stepKeys = new Set(["id", "run", ...stepOptionKeys, "cwd", "env"])

/**
 * Builds a workflow from data. Steps may be listed in any order. Every field
 * is checked for its type before it is read, and the work is linear in steps
 * and edges (ids are looked up in one `Map`): a spec of 100,000 steps builds
 * in about the time the builder takes to make the same graph and the plan to
 * check it (`bench/spec.ts`).
 *
 * @throws DefinitionError listing every problem: unknown keys, wrong types, bad runners, unknown ids, each cycle (`a → b → a`).
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
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    problems.push({ message: `a workflow spec must be an object like { name, steps: [...] }, not ${show(spec)}` })
    return fail()
  }
  for (const key of Object.keys(spec)) {
    if (!specKeys.includes(key)) problems.push({ message: `unknown key "${key}".${suggestion(key, specKeys)}` })
  }
  if (!Array.isArray(spec.steps)) {
    problems.push({ message: `steps must be a list of { id, run, needs? }, not ${show(spec.steps)}` })
    return fail()
  }
  const steps = spec.steps as ReadonlyArray<unknown>
  const n = steps.length
  // Each step's id, or `#<position>` for one without: how messages name it.
  const labels = new Array<string>(n)
  // Each id's first step (duplicates are the plan's to report): set from the
  // last step back, so that the first writes last, one keyed write a step.
  const indexOf = new Map<string, number>()
  for (let i = n - 1; i >= 0; i--) {
    const id = (steps[i] as { id?: unknown } | null)?.id
    if (typeof id === "string" && id !== "") {
      labels[i] = id
      indexOf.set(id, i)
    } else labels[i] = `#${i + 1}`
  }
  // One per listed step, in the order written, with its needs and after as
  // written (a step whose runner is wrong gets a stand-in, so the plan's
  // check still sees its options).
  const defs = new Array<StepDef>(n)
  const say = (i: number, message: string) => problems.push({ step: labels[i]!, message })
  for (let i = 0; i < n; i++) {
    const step = steps[i] as StepSpec
    const label = labels[i]!
    if (typeof step !== "object" || step === null || Array.isArray(step)) {
      defs[i] = makeStepDef(label, {}, standIn)
      say(i, `each step must be an object like { id, run }, not ${show(step)}`)
      continue
    }
    if (label !== step.id) say(i, `a step needs an id (a non-empty string)${"id" in step ? `, not ${show(step.id)}` : ""}`)
    for (const key in step) {
      if (!stepKeys.has(key) && Object.hasOwn(step, key)) say(i, `unknown key "${key}".${suggestion(key, stepKeys)}`)
    }
    const needs = step.needs === undefined ? none : refsOf("needs", step.needs, label, problems)
    const after = step.after === undefined ? none : refsOf("after", step.after, label, problems)
    if (step.cwd !== undefined || step.env !== undefined) {
      const isCommandText = !(typeof step.run === "function" || isCommand(step.run) || isWorkflow(step.run))
      for (const message of commandFieldProblems(step, isCommandText)) say(i, message)
    }
    const run = toRunner(step)
    if (run === undefined) say(i, `run must be a shell command (a string), an argv list, a function or a workflow, not ${show(step.run)}`)
    // The step itself is the options (the spec reports unknown keys itself);
    // a copy only where a field reads differently from how it is written.
    const options = (step.needs ?? none) === needs && (step.after ?? none) === after && step.permissions === undefined
      ? step
      : { ...step, needs, after, ...(step.permissions === undefined ? {} : { permissions: fromSpecPermissions(step.permissions) }) }
    defs[i] = makeStepDef(label, options as StepOptions<string, string>, run ?? standIn, none)
  }
  // Edges by index, for the layout: step i waits for deps[start[i]] … deps[start[i + 1] - 1].
  const start = new Int32Array(n + 1)
  const deps: Array<number> = []
  const resolve = (i: number, field: "needs" | "after", refs: ReadonlyArray<string>) => {
    for (let j = 0; j < refs.length; j++) {
      const ref = refs[j]!
      const at = indexOf.get(ref)
      if (at !== undefined) deps.push(at)
      else say(i, `${field} "${ref}", which is not a step of this workflow.${suggestion(ref, declared(indexOf))}`)
    }
  }
  for (let i = 0; i < n; i++) {
    start[i] = deps.length
    resolve(i, "needs", defs[i]!.needs)
    resolve(i, "after", defs[i]!.after)
  }
  start[n] = deps.length
  // The workflow's options are the spec's top-level keys of the option table.
  const workflowOptions: Record<string, unknown> = {}
  for (const key of workflowOptionKeys) {
    const value = spec[key]
    if (value !== undefined) workflowOptions[key] = key === "permissions" ? fromSpecPermissions(value) : value
  }
  // Options (rate limits, resources, permissions, retry, cache, ...) and
  // duplicate ids, checked as the builder's are; references the spec resolves itself, in any order.
  const checked = checkWorkflow(Workflow.make(spec.name, workflowOptions as WorkflowOptions, defs), { references: false })
  for (const p of checked.problems) problems.push({ ...p, message: inSpecTerms(p.message) })
  // Loops are reported with the other problems, all at once.
  const order = dependencyOrder({ start, deps })
  if (order === undefined) {
    for (const { path, others } of cycles({ start, deps }, labels)) {
      const also = others.length === 0 ? "" : ` (${listed(others.map((id) => `"${id}"`), ", ")} ${others.length === 1 ? "is" : "are"} caught in the same loop)`
      problems.push({ step: path[0]!, message: `steps wait for each other in a cycle: ${listed(path, " → ")}${also}. Remove one of these needs/after.` })
    }
  }
  if (problems.length > 0 || order === undefined) return fail()
  const ordered = new Array<StepDef>(n)
  for (let k = 0; k < n; k++) ordered[k] = defs[order[k]!]!
  return Workflow.make(spec.name, workflowOptions as WorkflowOptions, ordered)
}

/** `items` joined, the middle left out of a long list: a loop through 100,000 steps is not a readable message. */
const listed = (items: ReadonlyArray<string>, separator: string): string =>
  items.length <= 12
    ? items.join(separator)
    : [...items.slice(0, 8), `… ${(items.length - 11).toLocaleString("en")} more …`, ...items.slice(-3)].join(separator)

/** Stands in for a runner the spec got wrong (already reported), so the plan's check still sees the step's options. */
const standIn = () => undefined

const noOptions = Object.freeze({})

const toRunner = (step: StepSpec) => {
  const { run } = step
  const options = step.cwd === undefined && step.env === undefined ? noOptions : {
    ...(typeof step.cwd === "string" ? { cwd: step.cwd } : {}),
    ...(typeof step.env === "object" && step.env !== null ? { env: step.env } : {})
  }
  if (typeof run === "string" && run.trim() !== "") return shell(run, options)
  if (Array.isArray(run) && run.length > 0 && run.every((arg) => typeof arg === "string")) return cmd(run, options)
  if (typeof run === "function" || isCommand(run) || isWorkflow(run)) return run as StepFunction<any, unknown>
  return undefined
}
