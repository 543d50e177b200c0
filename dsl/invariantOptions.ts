/**
 * The workflow's `invariants` option: its definition check (a row of the
 * option table), and the steps its checks name, which only the whole
 * workflow can resolve (`check.ts` calls {@link invariantStepProblems}).
 */
import type { Problem } from "./DefinitionError.ts"
import { suggestion } from "./didYouMean.ts"
import { matchesStep, type Invariant } from "./Invariant.ts"
import { show } from "./show.ts"

const example = `invariants: { "deploy after tests": (run) => run.succeededBefore("test-*", "deploy") }`

/** What is wrong with an `invariants` value, every problem; empty when nothing is. */
export const invariantsProblems = (value: unknown): Array<string> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [`invariants must name each check, like ${example}, not ${show(value)}`]
  }
  const problems: Array<string> = []
  for (const [name, check] of Object.entries(value)) {
    if (typeof check !== "function") {
      problems.push(`invariant "${name}" must be a function of the run, like (run) => run.exclusive(["migrate", "seed"]), not ${show(check)}`)
      continue
    }
    const steps: unknown = (check as Invariant).steps
    if (steps !== undefined && !(Array.isArray(steps) && steps.every((s) => typeof s === "string" && s !== ""))) {
      problems.push(`invariant "${name}": its steps must be a list of step ids or patterns, like ["test-*", "deploy"], not ${show(steps)}`)
    }
  }
  return problems
}

/**
 * The steps each invariant says it names (`steps`) that the workflow does
 * not have: an id with a did-you-mean, or a pattern that matches none.
 * Invariants whose shape is wrong are left to {@link invariantsProblems}.
 */
export const invariantStepProblems = (value: unknown, ids: ReadonlyArray<string>): Array<Problem> => {
  if (typeof value !== "object" || value === null) return []
  const problems: Array<Problem> = []
  for (const [name, check] of Object.entries(value)) {
    const steps: unknown = typeof check === "function" ? (check as Invariant).steps : undefined
    if (!Array.isArray(steps)) continue
    for (const pattern of steps) {
      if (typeof pattern !== "string" || ids.some((id) => matchesStep(pattern, id))) continue
      problems.push({ message: unknownStep(name, pattern, ids) })
    }
  }
  return problems
}

/** The message for a step an invariant names that the workflow lacks. */
export const unknownStep = (invariant: string, pattern: string, ids: ReadonlyArray<string>): string =>
  pattern.includes("*")
    ? `invariant "${invariant}" names "${pattern}", which matches no step of this workflow`
    : `invariant "${invariant}" names step "${pattern}", which is not a step of this workflow.${suggestion(pattern, ids)}`
