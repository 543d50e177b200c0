/**
 * The arbitraries weft's own property suites use, for people who build on
 * weft: random workflows as printable data (`workflowModel`: DAGs,
 * durations, failures and retries, optional steps, resources), the weft
 * workflow of one (`toWorkflow`), and what a model says a run must do
 * (`attemptsOf`, `succeeds`, `totalTimeOf`). Imported as `arbitraries` from
 * `weft/properties`; schedules are `schedules(wf)`, beside `verify`.
 *
 * @example
 * import * as fc from "fast-check"
 * import { run } from "weft"
 * import { arbitraries } from "weft/properties"
 *
 * await fc.assert(fc.asyncProperty(arbitraries.workflowModel({ failures: false, maxDuration: 2 }), async (model) => {
 *   const result = await run(arbitraries.toWorkflow(model))
 *   return result.status === "succeeded"
 * }), { numRuns: 20 })
 */
export {
  attemptsOf,
  concurrencyArb,
  depsOf,
  describeModel,
  idOf,
  sleepingBody,
  succeeds,
  toWorkflow,
  totalTimeOf,
  workflowModel,
  type BodyOf,
  type ModelOptions,
  type StepModel,
  type WorkflowModel
} from "./arbitraries.ts"
