import { test } from "vitest"
import * as fc from "fast-check"
import { workflowModel } from "./arbitraries.ts"
import { runModel, check } from "./harness.ts"
import { formatTrace } from "./trace.ts"
import { makespanMatches, startsMatchReference } from "./invariants.ts"

test("scratch", async () => {
  const models = fc.sample(workflowModel(), { numRuns: 200, seed: 42 })
  const t0 = performance.now()
  let bad = 0
  for (const m of models) {
    const r = await runModel(m)
    try { check(r, { makespanMatches, startsMatchReference }) } catch (e) { if (bad++ < 2) console.log((e as Error).message) }
    try { check(r) } catch (e) { if (bad++ < 4) console.log((e as Error).message) }
  }
  console.log("ms per run", (performance.now() - t0) / models.length, "bad", bad)
  console.log(formatTrace(await runModel(models[3]!)))
}, 60000)
