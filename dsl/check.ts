/**
 * The definition check: every problem of a workflow, found at once, before
 * anything runs. Each option is checked by its row of the option table
 * (`options.ts`); what is left here is what no single option can say: the
 * workflow's name, unknown keys, step ids, references between steps and
 * runners. The builder's workflows (through `Plan.make`) and specs (through
 * `fromSpec`) both come here, so the same value gets the same message.
 */
import { isCommand } from "./Command.ts"
import type { Problem } from "./DefinitionError.ts"
import { suggestion } from "./didYouMean.ts"
import { invariantStepProblems } from "./invariantOptions.ts"
import { stepOptionKeys, stepOptions, workflowOptionKeys, workflowOptions } from "./options.ts"
import type { StepDef } from "./Step.ts"
import { isWorkflow, type Workflow } from "./Workflow.ts"

/** The step rows in the order of their keys: one lookup per step and option saved. */
const stepRows = stepOptionKeys.map((key) => stepOptions[key])

/** What one pass over a workflow finds: its problems, and what a layout reuses when there are none. */
export interface Checked {
  readonly problems: Array<Problem>
  /** Each id's first step index (keys in no useful order: see {@link declared}). */
  readonly indexOf: Map<string, number>
  /**
   * The index of every reference, step by step, needs before after, in the
   * order written (-1 for one that is not an earlier step): a layout reads
   * these instead of looking every id up again. Empty without `references`.
   */
  readonly refs: Array<number>
}

/**
 * The ids of an id index (`Checked.indexOf`, a spec's) in declaration order:
 * did-you-mean offers the first of equally close ids, and the index is built
 * from the last step back. Only for messages: it sorts.
 */
export const declared = (firstOf: ReadonlyMap<string, number>): Array<string> =>
  [...firstOf].sort((a, b) => a[1] - b[1]).map(([id]) => id)

export interface CheckOptions {
  /**
   * Whether `needs` and `after` must name earlier steps (default true). A
   * spec lists steps in any order and resolves them itself, so it passes
   * false; their shape (a list of ids) is checked either way.
   */
  readonly references?: boolean | undefined
}

/**
 * Every problem of a workflow's definition, in one pass over the steps. A
 * valid step allocates nothing here (no closures, no tuples, each id looked
 * up once): at 100,000 steps this pass was most of `Plan.make`; messages are
 * built only when something is wrong.
 *
 * @example
 * const { problems } = checkWorkflow(workflow("ci", { concurrency: 0 }))
 * // [{ message: "concurrency must be a whole number of at least 1, not 0" }]
 */
export const checkWorkflow = (wf: Workflow<any>, options: CheckOptions = {}): Checked => {
  const references = options.references ?? true
  const problems: Array<Problem> = []
  if (typeof wf.name !== "string" || wf.name.trim() === "") problems.push({ message: "the workflow needs a name: workflow(\"build\")" })
  const settings = wf.options ?? {}
  for (const key of Object.keys(settings)) {
    if (!Object.hasOwn(workflowOptions, key)) problems.push({ message: `unknown workflow option "${key}".${suggestion(key, workflowOptionKeys)}` })
  }
  for (const key of workflowOptionKeys) {
    const value = settings[key]
    if (value !== undefined) for (const message of workflowOptions[key].check(value, settings)) problems.push({ message })
  }
  const steps = wf.steps
  const n = steps.length
  // Each id's first step, set from the last step back so that the first
  // writes last: one keyed write a step instead of a read and a write (string
  // keys are most of this pass's time at 100,000 steps). A write that leaves
  // the size as it was met a later twin: only then are ids looked up again.
  const firstOf = new Map<string, number>()
  let twins = false
  for (let i = n - 1; i >= 0; i--) {
    const size = firstOf.size
    firstOf.set(steps[i]!.id, i)
    if (firstOf.size === size) twins = true
  }
  const refs: Array<number> = []
  const say = (def: StepDef, message: string) => problems.push({ step: String(def.id), message })
  const resolve = (def: StepDef, i: number, field: "needs" | "after", list: unknown) => {
    // Its shape is its row's to report.
    if (!Array.isArray(list)) return
    for (let j = 0; j < list.length; j++) {
      const ref: unknown = list[j]
      if (typeof ref !== "string") {
        refs.push(-1)
        continue
      }
      // Declared before it: its first step comes earlier.
      const found = ref === def.id ? undefined : firstOf.get(ref)
      const at = found !== undefined && found < i ? found : undefined
      refs.push(at ?? -1)
      if (at !== undefined) continue
      if (ref === def.id) say(def, `${field} names the step itself`)
      else if (found !== undefined) say(def, `${field} "${ref}", which is declared after it: declare "${ref}" first`)
      else say(def, `${field} "${ref}", which is not a step of this workflow.${suggestion(ref, steps.map((s) => s.id))}`)
    }
  }
  for (let i = 0; i < n; i++) {
    const def = steps[i]!
    const id = def.id
    if (typeof id !== "string" || id === "") say(def, "a step needs a non-empty string id")
    const first = twins ? firstOf.get(id)! : i
    if (first !== i) say(def, `the id "${id}" is used twice (steps ${first + 1} and ${i + 1}): give each step its own id`)
    // Indexed, not `for of`: code that has not been optimized yet (a cold
    // process) allocates an iterator per loop.
    const unknown = def.unknownOptions
    for (let j = 0; j < unknown.length; j++) say(def, `unknown option "${unknown[j]}".${suggestion(unknown[j]!, stepOptionKeys)}`)
    for (let k = 0; k < stepOptionKeys.length; k++) {
      const value = def[stepOptionKeys[k]!]
      if (value === undefined) continue
      const found = stepRows[k]!.check(value, settings)
      for (let j = 0; j < found.length; j++) say(def, found[j]!)
    }
    if (references) {
      resolve(def, i, "needs", def.needs)
      resolve(def, i, "after", def.after)
    }
    const run = def.run
    if (isCommand(run)) {
      if (run.argv.length === 0 || run.argv[0] === "") say(def, "its command is empty")
    } else if (isWorkflow(run)) {
      for (const p of checkWorkflow(run).problems) say(def, `in sub-workflow "${run.name}": ${p.step === undefined ? "" : `step "${p.step}": `}${p.message}`)
    } else if (typeof run !== "function") {
      say(def, "its runner must be a function, a command (sh`...` or cmd([...])) or a workflow")
    }
  }
  if (settings.invariants !== undefined) problems.push(...invariantStepProblems(settings.invariants, steps.map((s) => s.id)))
  return { problems, indexOf: firstOf, refs }
}
