import { test } from "vitest"
import * as fc from "fast-check"
import { workflowModel } from "./arbitraries.ts"
import { runOnScheduler, check } from "./harness.ts"
import { traceInvariants } from "./invariants.ts"

test("scratch", async () => {
  const t0 = performance.now()
  for (const opts of [{}, { maxSteps: 20 }, { failFast: true }, { failures: false }]) {
    await fc.assert(fc.asyncProperty(fc.scheduler(), workflowModel({ retryDelays: false, ...opts }), async (s, model) => {
      const r = await runOnScheduler(s, model)
      check(r, traceInvariants)
    }), { numRuns: 1500 })
  }
  console.log("ms", performance.now() - t0)
}, 600000)
