/**
 * Resources on random workflows run on virtual time: capacities are never
 * exceeded, every run ends (no deadlock), the reservation rule holds (no
 * starvation), the run is work-conserving under it, and every start matches
 * the reference list scheduler extended with resources.
 *
 * `WEFT_PROPERTY_RUNS=10` multiplies the number of runs for a deeper search.
 */
import * as fc from "fast-check"
import { describe, test } from "vitest"
import { workflowModel } from "./arbitraries.ts"
import { check, holds, horizonOf, runModel, runs } from "./harness.ts"
import {
  cancelStops,
  endsOnce,
  failFastStops,
  outcomesFollowPlan,
  reservationHonoured,
  resourcesWorkConserving,
  startsAfterDeps,
  startsMatchReference,
  wellFormed,
  withinConcurrency,
  withinResources
} from "./invariants.ts"



const withResources = workflowModel({ resources: true })

describe("resources on virtual time", () => {
  test("8. no resource is ever held beyond its capacity, nor slots beyond the concurrency", async () => {
    await fc.assert(holds(withResources, { wellFormed, withinResources, withinConcurrency, startsAfterDeps }), runs(250))
  })

  test("8. no deadlock: every run ends, every step ends once, and without planned failures all succeed", async () => {
    await fc.assert(holds(workflowModel({ resources: true, failures: false }), { endsOnce }), runs(200))
    await fc.assert(holds(withResources, { endsOnce, outcomesFollowPlan, failFastStops }), runs(200))
  })

  test("8b. no starvation: a lower-ranked step never takes what the best waiting step reserved", async () => {
    await fc.assert(holds(withResources, { reservationHonoured }), runs(250))
  })

  test("8c. work-conserving under the rule: no step waits that could start", async () => {
    await fc.assert(holds(withResources, { resourcesWorkConserving }), runs(250))
  })

  test("8d. every attempt starts when and in the order the reference scheduler with resources starts it", async () => {
    await fc.assert(holds(withResources, { startsMatchReference }), runs(250))
  })

  test("8e. aborting mid-run gives everything back and stops at once", async () => {
    await fc.assert(
      fc.asyncProperty(
        withResources.chain((model) => fc.tuple(fc.constant(model), fc.integer({ min: 0, max: horizonOf(model) }))),
        async ([model, abortAt]) => check(await runModel(model, { abortAt }), { withinResources, endsOnce, cancelStops, reservationHonoured })
      ),
      runs(200)
    )
  })
})
