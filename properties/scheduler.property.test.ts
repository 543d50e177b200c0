/**
 * The scheduler's invariants over random workflows run on virtual time. Each
 * property prints, on failure, the broken invariant, the graph and the trace;
 * fast-check adds the seed and path to replay it:
 * `fc.assert(property, { seed, path, endOnFailure: true })`.
 *
 * `WEFT_PROPERTY_RUNS=10` multiplies the number of runs for a deeper search.
 */
import * as fc from "fast-check"
import { describe, expect, test } from "vitest"
import { indexOfId, workflowModel } from "./arbitraries.ts"
import { criticalPath } from "./criticalPath.ts"
import { check, holds, horizonOf, InvariantError, runModel, runs } from "./harness.ts"
import {
  cancelStops,
  endsOnce,
  failFastStops,
  makespanMatches,
  outcomesFollowPlan,
  sameTrace,
  startsAfterDeps,
  startsMatchReference,
  wellFormed,
  withinConcurrency,
  workConserving
} from "./invariants.ts"
import { referenceSchedule } from "./referenceSchedule.ts"
import { formatEvents } from "./trace.ts"



const anyModel = workflowModel()

describe("scheduler invariants on virtual time", () => {
  test("1. a step is ready and starts only after its needs and after-steps ended well", async () => {
    await fc.assert(holds(anyModel, { wellFormed, startsAfterDeps }), runs(500))
  })

  test("2. every step ends exactly once, with the planned outcome", async () => {
    await fc.assert(holds(anyModel, { endsOnce, outcomesFollowPlan }), runs(500))
  })

  test("2. without planned failures, every step and the run succeed", async () => {
    await fc.assert(holds(workflowModel({ failures: false }), { endsOnce }), runs(300))
  })

  test("3. running steps never exceed the concurrency limit", async () => {
    await fc.assert(holds(workflowModel({ concurrency: fc.integer({ min: 1, max: 3 }) }), { withinConcurrency }), runs(500))
  })

  test("4. work-conserving: at the end of each instant, no ready step waits beside a free slot", async () => {
    await fc.assert(holds(anyModel, { workConserving }), runs(500))
  })

  test("5. fail-fast: after the first fatal failure nothing starts, what runs is cancelled, the run fails", async () => {
    let fatal = 0
    await fc.assert(
      fc.asyncProperty(workflowModel({ failFast: true }), async (model) => {
        const run = await runModel(model)
        if (run.events.some((e) => e.type === "step:end" && e.status === "failed" && !model.steps[indexOfId(e.step)]!.optional)) fatal++
        check(run, { failFastStops })
      }),
      runs(500)
    )
    // Guards against a vacuous pass: enough runs must actually fail fast.
    expect(fatal).toBeGreaterThan(runs(500).numRuns! / 10)
  })

  test("5. without fail-fast, a fatal failure only skips its dependents", async () => {
    await fc.assert(holds(workflowModel({ failFast: false }), { failFastStops, outcomesFollowPlan }), runs(300))
  })

  test("5b. aborting the signal stops the run at once, whatever the graph and the moment", async () => {
    await fc.assert(
      fc.asyncProperty(
        anyModel.chain((model) => fc.tuple(fc.constant(model), fc.integer({ min: 0, max: horizonOf(model) }))),
        async ([model, abortAt]) => check(await runModel(model, { abortAt }), { wellFormed, startsAfterDeps, endsOnce, withinConcurrency, workConserving, cancelStops })
      ),
      runs(500)
    )
  })

  test("6. unlimited slots: the run lasts its critical path (retries and their delays counted)", async () => {
    await fc.assert(holds(workflowModel({ concurrency: fc.constant("unlimited") }), { makespanMatches }), runs(500))
  })

  test("6. limited slots: the run lasts what the reference list scheduler says", async () => {
    await fc.assert(holds(workflowModel({ concurrency: fc.integer({ min: 1, max: 4 }) }), { makespanMatches }), runs(500))
  })

  test("6b. every attempt starts when and in the order the reference list scheduler starts it", async () => {
    await fc.assert(holds(anyModel, { startsMatchReference }), runs(500))
  })

  test("6c. the two oracles agree: the reference scheduler with unlimited slots takes the critical path", () => {
    fc.assert(
      fc.property(anyModel, (model) => {
        const unlimited = { ...model, concurrency: "unlimited" as const }
        expect(referenceSchedule(unlimited).makespan).toBe(criticalPath(unlimited))
      }),
      runs(2000)
    )
  })

  test("7. determinism: the same workflow and durations give the same trace", async () => {
    await fc.assert(
      fc.asyncProperty(anyModel, async (model) => {
        const first = await runModel(model)
        const second = await runModel(model)
        const why = sameTrace(first, second)
        if (why !== undefined) throw new InvariantError([`sameTrace: ${why}`, `second run:\n${formatEvents(second.events)}`], first)
      }),
      runs(300)
    )
  })
})
