/**
 * Checks a workflow's invariants on one run: which promises broke (each with
 * the steps blamed, why and a fix when the check knows one), and which
 * checks are themselves wrong (they name a step the workflow lacks, or
 * return something that is not an answer): definition problems.
 */
import type { Problem } from "../dsl/DefinitionError.ts"
import { show } from "../dsl/show.ts"
import { unknownStep } from "../dsl/invariantOptions.ts"
import type { Workflow } from "../dsl/Workflow.ts"
import { makeRunView, UnknownStepError, type RunTrace } from "./runView.ts"

/** A promise that did not hold in a run. */
export interface Violation {
  /** The invariant's name. */
  readonly invariant: string
  readonly steps: ReadonlyArray<string>
  /** What happened, in a sentence. */
  readonly message: string
  /** What would make it hold, when the check knows. */
  readonly fix?: string | undefined
}

export interface InvariantReport {
  readonly violations: ReadonlyArray<Violation>
  readonly problems: ReadonlyArray<Problem>
}

const nothing: InvariantReport = { violations: [], problems: [] }

/** Every invariant of `wf` checked on the run `trace` records (its ids: all the workflow's steps). */
export const checkInvariants = async (wf: Workflow<any>, trace: Omit<RunTrace, "ids">): Promise<InvariantReport> => {
  const invariants = wf.options.invariants
  if (invariants === undefined) return nothing
  const ids = wf.steps.map((s) => s.id)
  const violations: Array<Violation> = []
  const problems: Array<Problem> = []
  for (const [name, check] of Object.entries(invariants)) {
    const { view, blame } = makeRunView({ ...trace, ids })
    let answer: unknown
    try {
      answer = await check(view)
    } catch (error) {
      if (error instanceof UnknownStepError) problems.push({ message: unknownStep(name, error.pattern, ids) })
      else violations.push({ invariant: name, steps: blame()?.steps ?? [], message: `invariant "${name}" threw: ${error instanceof Error ? error.message : show(error)}` })
      continue
    }
    if (answer === true || answer === undefined) continue
    if (answer !== false && typeof answer !== "string") {
      problems.push({ message: `invariant "${name}" returned ${show(answer)}: a check returns true (or nothing) when the promise held, false or a sentence saying why not when it did not` })
      continue
    }
    const why = blame()
    const said = typeof answer === "string" ? answer : why?.reason ?? "its check returned false"
    violations.push({ invariant: name, steps: why?.steps ?? [], message: `invariant "${name}" broke: ${said}`, fix: why?.fix })
  }
  return { violations, problems }
}
