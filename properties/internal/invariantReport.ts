/**
 * The workflow's invariants, checked on one observed run, and the finding
 * a broken one makes. A check that is itself wrong (it names a step the
 * workflow lacks) is a definition problem, thrown as one.
 */
import { DefinitionError } from "../../dsl/DefinitionError.ts"
import type { Workflow } from "../../dsl/Workflow.ts"
import { checkInvariants, type Violation } from "../../runtime/checkInvariants.ts"
import type { InvariantFinding } from "../Finding.ts"
import type { Observation } from "./observe.ts"
import type { Schedule } from "./schedule.ts"

/** The invariants `observation` broke, in declaration order. @throws DefinitionError for a check that names no step of the workflow. */
export const invariantsBroken = async (wf: Workflow<any>, observation: Observation): Promise<ReadonlyArray<Violation>> => {
  const { violations, problems } = await checkInvariants(wf, observation)
  if (problems.length > 0) throw new DefinitionError({ workflow: wf.name, problems })
  return violations
}

/** The names of the workflow's invariants. */
export const invariantNames = (wf: Workflow<any>): ReadonlyArray<string> => Object.keys(wf.options.invariants ?? {})

// A check of the user's own that blames no steps cannot say which order is
// missing; what it can say is where to look.
const genericFix = (violation: Violation): string =>
  violation.steps.length > 0
    ? `order ${violation.steps.map((s) => `"${s}"`).join(" and ")} with after: (or needs:), or give them a shared resource of capacity 1, so that every schedule keeps the promise`
    : "find the steps the invariant is about and order them with after: (or needs:), or give them a shared resource of capacity 1, so that every schedule keeps the promise"

/** The finding for a broken invariant: under a schedule (drawn by `verify` from `seed`, or given to `checkSchedule`), or in the plain run. */
export const invariantFinding = (violation: Violation, drawn?: { readonly seed?: number | undefined; readonly schedule: Schedule }): InvariantFinding => ({
  kind: "invariant",
  invariant: violation.invariant,
  steps: violation.steps,
  seed: drawn?.seed,
  schedule: drawn?.schedule,
  message: `${violation.message} (${drawn === undefined ? "in a plain run" : drawn.seed === undefined ? "under the schedule checked" : `under a drawn schedule, seed ${drawn.seed}`})`,
  fix: violation.fix ?? genericFix(violation)
})
