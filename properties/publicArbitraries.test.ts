import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Plan from "../runtime/Plan.ts"
import { run } from "../runtime/Run.ts"
import { arbitraries } from "./index.ts"

describe("arbitraries, as weft/properties exports them", () => {
  it("are the public ones only: models, their workflows, and what a model says a run does", () => {
    expect(Object.keys(arbitraries).sort()).toEqual([
      "attemptsOf", "concurrencyArb", "depsOf", "describeModel", "idOf", "sleepingBody", "succeeds", "toWorkflow", "totalTimeOf", "workflowModel"
    ])
  })

  it("generate workflows that Plan.make accepts, resources included, with the graph the model says", () => {
    fc.assert(
      fc.property(arbitraries.workflowModel({ resources: true, maxSteps: 8 }), (model) => {
        const plan = Plan.make(arbitraries.toWorkflow(model))
        expect(plan.ids).toEqual(model.steps.map((_, i) => arbitraries.idOf(i)))
        expect(plan.deps.map((deps) => [...deps].sort())).toEqual(model.steps.map((s) => arbitraries.depsOf(s).sort()))
      }),
      { numRuns: 100 }
    )
  })

  it("run as their model says: every step's status and attempts, with real sleeps", async () => {
    await fc.assert(
      fc.asyncProperty(arbitraries.workflowModel({ maxSteps: 5, maxDuration: 2, retryDelays: false, failFast: false }), async (model) => {
        const result = await run(arbitraries.toWorkflow(model), { cache: { mode: "off" } })
        model.steps.forEach((step, i) => {
          const summary = result.steps[arbitraries.idOf(i)]
          if (summary?.status !== "succeeded" && summary?.status !== "failed") return
          const where = arbitraries.describeModel(model)
          expect(summary.status, where).toBe(arbitraries.succeeds(step) ? "succeeded" : "failed")
          expect(summary.attempts, where).toBe(arbitraries.attemptsOf(step))
        })
      }),
      { numRuns: 15 }
    )
  })
})
