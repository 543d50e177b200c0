/**
 * The checks of weft's own promises, which weft keeps (so no real run can
 * show them failing): each fed a run that breaks it, made up as events.
 */
import { describe, expect, it } from "vitest"
import { workflow } from "../../../dsl/Workflow.ts"
import type { Event } from "../../../runtime/Event.ts"
import * as Plan from "../../../runtime/Plan.ts"
import type { RunResult } from "../../../runtime/RunState.ts"
import { stepFaultFindings, type StepFaultCase } from "./stepPromises.ts"

const plan = Plan.make(
  workflow("made-up")
    .step("flaky", { retry: 2 }, () => 1)
    .step("after", { after: ["flaky"] }, () => 2)
)

const start = (step: string): Event => ({ type: "step:start", time: 0, step, attempt: 1 })
const end = (step: string, status: "failed" | "succeeded" | "skipped", error?: string, durationMs = 1): Event =>
  ({ type: "step:end", time: 0, step, status, durationMs, attempts: 1, ...(error === undefined ? {} : { error }) })

const failedRun = { status: "failed", outputs: {}, steps: {}, durationMs: 1 } as RunResult

const check = (events: ReadonlyArray<Event>, over: Partial<StepFaultCase> = {}) =>
  stepFaultFindings({
    fault: "throw",
    step: 0,
    plan,
    clean: new Map(),
    seen: { hung: false, result: failedRun, events, cached: new Set(), leftovers: [] },
    record: { injected: 3, standIns: 0, finalized: 0, aborted: 0 },
    attemptBoundMs: 1000,
    keeper: { seed: 5 },
    deliberate: new Set(),
    ...over
  }).map((f) => f.promise)

const thrice = [start("flaky"), start("flaky"), start("flaky")]

describe("the checks of weft's promises under a fault", () => {
  it("hold for a run that keeps them", () => {
    expect(check([...thrice, end("flaky", "failed"), end("after", "skipped")])).toEqual([])
  })

  it("a step with retry: 2 that started once", () => {
    expect(check([start("flaky"), end("flaky", "failed"), end("after", "skipped")])).toEqual(["a step with retry: 2 runs 3 attempts"])
  })

  it("a dependent that ran after its dependency failed, in a run that succeeded", () => {
    const events = [...thrice, end("flaky", "failed"), start("after"), end("after", "succeeded")]
    expect(check(events, { seen: { hung: false, result: { ...failedRun, status: "succeeded" }, events, cached: new Set(), leftovers: [] } }))
      .toEqual(["a failed step's dependents do not run", "a failed step fails the run"])
  })

  it("a timed-out step whose finalizer did not run, whose signal was not aborted, that ended late and not timed out", () => {
    const events = [...thrice, end("flaky", "failed", "boom", 10_000), end("after", "skipped")]
    expect(check(events, { fault: "timeout", record: { injected: 3, standIns: 3, finalized: 2, aborted: 0 } })).toEqual([
      "a step that outlives its timeout fails timed out",
      "a timed-out step ends within its timeout",
      "an interrupted step's finalizers run",
      "ctx.signal is aborted when a step is interrupted"
    ])
  })

  it("a run that hangs is told as such, with weft's fix and the seed", () => {
    const findings = stepFaultFindings({
      fault: "timeout", step: 0, plan, clean: new Map(),
      seen: { hung: true, result: undefined, events: [], cached: new Set(), leftovers: [] },
      record: { injected: 1, standIns: 1, finalized: 0, aborted: 0 }, attemptBoundMs: 1000, keeper: { seed: 5 }, deliberate: new Set()
    })
    expect(findings).toMatchObject([{ kind: "fault", fault: "timeout", step: "flaky", promise: "a failing step ends, and the run with it" }])
    expect(findings[0]!.fix).toContain("weft bug")
    expect(findings[0]!.fix).toContain("seed: 5")
  })
})
