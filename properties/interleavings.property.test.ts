/**
 * The scheduler's invariants when step bodies are real promises finishing in
 * an order the test chooses, run through the ordinary `run()` on the real
 * clock. Time means nothing here, so the time-based invariants are read by
 * event order: concurrency at every event, work conservation at the quiet
 * points between releases (see `runOnScheduler`).
 *
 * Two drivers: `fc.scheduler()` releases one body at a time in a random order,
 * sometimes without waiting for the run to settle (`gaps`); `runInWaves`
 * finishes several bodies in the same tick, which `fc.scheduler()` cannot do.
 *
 */
import * as fc from "fast-check"
import { describe, expect, test } from "vitest"
import { workflowModel, type StepModel, type WorkflowModel } from "./arbitraries.ts"
import { check, runInWaves, runOnScheduler, type Gap } from "./harness.ts"
import {
  endsOnce,
  failFastStops,
  noCancelWithoutFailFast,
  nothingStartsAfterFatal,
  outcomesFollowPlan,
  runFailsAfterFatal,
  runningCancelledWithin,
  startsAfterDeps,
  wellFormed,
  withinConcurrency,
  workConserving
} from "./invariants.ts"

const scale = Number(process.env.WEFT_PROPERTY_RUNS ?? 1)
const runs = (n: number): number => Math.max(1, Math.round(n * scale))

/** Real bodies cannot wait between retries without real time passing: no retry delays here. */
const model = workflowModel({ retryDelays: false })

/** What to wait before each release: mostly until quiet, sometimes only a few event-loop turns. */
const gaps: fc.Arbitrary<Array<Gap>> = fc.array(
  fc.oneof({ weight: 2, arbitrary: fc.constant("settle" as const) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 4 }) }),
  { maxLength: 40 }
)

/** Which waiting bodies finish together at each quiet point (indices into the waiting list). */
const waves = fc.array(fc.array(fc.nat({ max: 11 }), { minLength: 1, maxLength: 3 }), { maxLength: 30 })

/** What holds even when completions reach the engine in one batch. */
const batchSafe = { wellFormed, startsAfterDeps, endsOnce, outcomesFollowPlan, withinConcurrency, workConserving, noCancelWithoutFailFast }

describe("scheduler invariants under random promise interleavings", () => {
  test("8. 1–5 hold whatever order fc.scheduler() finishes step bodies in", async () => {
    let raced = 0
    const numRuns = runs(500)
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), model, gaps, async (s, model, gaps) => {
        const run = await runOnScheduler(s, model, gaps)
        // Two step:end in a row across no quiet point: completions were handled back to back.
        const quiet = new Set(run.checkpoints)
        if (run.events.some((e, i) => i > 0 && e.type === "step:end" && run.events[i - 1]!.type === "step:end" && !quiet.has(i))) raced++
        check(run, { ...batchSafe, failFastStops })
      }),
      { numRuns }
    )
    // Guards against a harness that never lets completions race.
    expect(raced).toBeGreaterThan(numRuns / 20)
  })

  test("8b. 1–4 (and no cancelling without fail-fast) hold when several step bodies finish in the same tick", async () => {
    await fc.assert(
      fc.asyncProperty(model, waves, async (model, waves) => check(await runInWaves(model, waves), batchSafe)),
      { numRuns: runs(500) }
    )
  })

  // Found by this suite: when a success and a fatal failure reached the machine in one batch,
  // the start the success freed a slot for was not withdrawn by the stop.
  test("8c. fail-fast: no step starts after a fatal failure, even when bodies finish in the same tick", async () => {
    await fc.assert(
      fc.asyncProperty(model, waves, async (model, waves) => check(await runInWaves(model, waves), { nothingStartsAfterFatal, runFailsAfterFatal })),
      { numRuns: runs(500) }
    )
  })

  // A step whose body finished in the same tick as the failing one ends as it happened
  // (succeeded), at the failure's instant; any later end of a running step is cancelled.
  test("8d. fail-fast: steps running at a fatal failure end cancelled, even when bodies finish in the same tick", async () => {
    await fc.assert(
      fc.asyncProperty(model, waves, async (model, waves) => check(await runInWaves(model, waves), { runningCancelledAtFatal: runningCancelledWithin(50) })),
      { numRuns: runs(500) }
    )
  })

  test("8c. example: s0 and s1 (fatal) finish together; s2, waiting for a slot, must not start", async () => {
    const step = (over: Partial<StepModel> = {}): StepModel => ({ needs: [], after: [], duration: 1, optional: false, failures: 0, retries: 0, retryDelay: 0, ...over })
    const m: WorkflowModel = { steps: [step(), step({ failures: 1 }), step()], concurrency: 2, failFast: true }
    check(await runInWaves(m, [[0, 1]]), { nothingStartsAfterFatal })
  })
})
