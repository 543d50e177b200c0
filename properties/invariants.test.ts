/**
 * Each invariant can fail: a hand-made good trace passes it, and the same
 * trace with one thing wrong is caught with an explanation. Also: the harness
 * prints the graph and the trace, and the reference scheduler tells weft's
 * priority rule apart from a plausible wrong one on a real run.
 */
import * as Effect from "effect/Effect"
import { describe, expect, test } from "vitest"
import { Workflow } from "../dsl/Workflow.ts"
import type { Event } from "../runtime/Event.ts"
import type { EndStatus } from "../runtime/StepStatus.ts"
import { depsOf, idOf, limitOf, toWorkflow, type StepModel, type WorkflowModel } from "./arbitraries.ts"
import { check, horizonOf, runOnTestClock } from "./harness.ts"
import * as inv from "./invariants.ts"
import type { Trace } from "./trace.ts"

const step = (over: Partial<StepModel> = {}): StepModel => ({ needs: [], after: [], duration: 1, optional: false, failures: 0, retries: 0, retryDelay: 0, ...over })

const modelOf = (steps: Array<Partial<StepModel>>, over: Partial<WorkflowModel> = {}): WorkflowModel => ({
  steps: steps.map(step),
  concurrency: 2,
  failFast: true,
  ...over
})

const runStart = (model: WorkflowModel): Event => ({
  type: "run:start",
  time: 0,
  run: "20261125-225447-3f2a",
  workflow: "hand-made",
  steps: model.steps.map((s, i) => ({ id: idOf(i), deps: depsOf(s).map(idOf) })),
  concurrency: limitOf(model)
})
const ready = (time: number, step: string): Event => ({ type: "step:ready", time, step })
const start = (time: number, step: string, attempt = 1): Event => ({ type: "step:start", time, step, attempt })
const end = (time: number, step: string, status: EndStatus = "succeeded", attempts = 1): Event => ({ type: "step:end", time, step, status, durationMs: 0, attempts })
const runEnd = (time: number, status: "succeeded" | "failed" | "cancelled" = "succeeded"): Event => ({ type: "run:end", time, status, durationMs: time })

/** s0 (1 ms) then s1 (2 ms), which needs it. */
const chain = modelOf([{}, { needs: [0], duration: 2 }])
const chainEvents = (m: WorkflowModel): Array<Event> => [runStart(m), ready(0, "s0"), start(0, "s0"), end(1, "s0"), ready(1, "s1"), start(1, "s1"), end(3, "s1"), runEnd(3)]
const good: Trace = { model: chain, events: chainEvents(chain) }

/** The trace with events replaced: `edit(events)` returns the new list. */
const bad = (trace: Trace, edit: (events: Array<Event>) => Array<Event>, over: Partial<Trace> = {}): Trace => ({ ...trace, ...over, events: edit([...trace.events]) })

describe("every invariant passes a good trace", () => {
  for (const [name, check] of Object.entries({ ...inv.traceInvariants, makespanMatches: inv.makespanMatches, startsMatchReference: inv.startsMatchReference })) {
    test(name, () => expect(check(good)).toBeUndefined())
  }
})

describe("every invariant can fail", () => {
  test("wellFormed: a trace that never ends", () => {
    expect(inv.wellFormed(bad(good, (e) => e.slice(0, -1)))).toMatch(/does not end with run:end/)
  })

  test("wellFormed: time going back", () => {
    expect(inv.wellFormed(bad(good, (e) => [...e.slice(0, 4), ready(0, "s1"), ...e.slice(5)]))).toMatch(/time goes back/)
  })

  test("startsAfterDeps: a step starting before what it needs ended", () => {
    const early = bad(good, () => [runStart(chain), ready(0, "s0"), ready(0, "s1"), start(0, "s0"), start(0, "s1"), end(1, "s0"), end(2, "s1"), runEnd(2)])
    expect(inv.startsAfterDeps(early)).toMatch(/s1 waits for s0, which has not ended/)
  })

  test("startsAfterDeps: a step starting after what it needs failed, though that is not optional", () => {
    const m = modelOf([{ failures: 1 }, { after: [0] }])
    const trace: Trace = { model: m, events: [runStart(m), ready(0, "s0"), start(0, "s0"), end(1, "s0", "failed"), ready(1, "s1"), start(1, "s1"), end(2, "s1"), runEnd(2, "failed")] }
    expect(inv.startsAfterDeps(trace)).toMatch(/ended failed and is not optional/)
    const optional = modelOf([{ failures: 1, optional: true }, { after: [0] }])
    expect(inv.startsAfterDeps({ ...trace, model: optional })).toBeUndefined()
  })

  test("endsOnce: a step ending twice", () => {
    expect(inv.endsOnce(bad(good, (e) => [...e.slice(0, -1), end(3, "s1"), e.at(-1)!]))).toMatch(/after s1 ended/)
  })

  test("endsOnce: a step never ending", () => {
    expect(inv.endsOnce(bad(good, (e) => [...e.slice(0, 6), runEnd(3)]))).toMatch(/never ended: s1/)
  })

  test("endsOnce: a failure nobody planned", () => {
    expect(inv.endsOnce(bad(good, (e) => [...e.slice(0, 6), end(3, "s1", "failed"), runEnd(3, "failed")]))).toMatch(/no failure is planned, yet s1 ended failed/)
  })

  test("outcomesFollowPlan: a step that should have failed succeeds", () => {
    const m = modelOf([{ failures: 2, retries: 1 }])
    const trace: Trace = { model: m, events: [runStart(m), ready(0, "s0"), start(0, "s0"), start(1, "s0", 2), end(2, "s0", "succeeded", 2), runEnd(2)] }
    expect(inv.outcomesFollowPlan(trace)).toMatch(/planned to end failed/)
  })

  test("withinConcurrency: two steps running with one slot", () => {
    const m = modelOf([{}, {}], { concurrency: 1 })
    const trace: Trace = { model: m, events: [runStart(m), ready(0, "s0"), ready(0, "s1"), start(0, "s0"), start(0, "s1"), end(1, "s0"), end(1, "s1"), runEnd(1)] }
    expect(inv.withinConcurrency(trace)).toMatch(/2 steps run \(s0, s1\), over the limit of 1/)
    expect(inv.withinConcurrency({ ...trace, model: { ...m, concurrency: 2 } })).toBeUndefined()
  })

  test("workConserving: a ready step left waiting beside a free slot at the end of an instant", () => {
    const m = modelOf([{}, {}], { concurrency: 2 })
    const lazy: Trace = { model: m, events: [runStart(m), ready(0, "s0"), ready(0, "s1"), start(0, "s0"), end(1, "s0"), start(1, "s1"), end(2, "s1"), runEnd(2)] }
    expect(inv.workConserving(lazy)).toMatch(/s1 wait\(s\) ready while only 1 of 2 slots are used/)
    // Within one instant the order does not matter: s1 starts before the instant ends.
    const late: Trace = { model: m, events: [runStart(m), ready(0, "s0"), start(0, "s0"), ready(0, "s1"), start(0, "s1"), end(1, "s0"), end(1, "s1"), runEnd(1)] }
    expect(inv.workConserving(late)).toBeUndefined()
    // With quiet points recorded, they are where it is checked.
    expect(inv.workConserving({ ...late, checkpoints: [4] })).toMatch(/s1 wait/)
  })

  test("failFastStops: a step starting after a fatal failure", () => {
    const m = modelOf([{ failures: 1 }, { duration: 5 }, {}], { concurrency: 1 })
    const trace: Trace = { model: m, events: [runStart(m), ready(0, "s0"), ready(0, "s1"), ready(0, "s2"), start(0, "s1"), end(5, "s1"), start(5, "s0"), end(6, "s0", "failed"), start(6, "s2"), end(7, "s2"), runEnd(7, "failed")] }
    expect(inv.failFastStops(trace)).toMatch(/starts after the fatal failure/)
    expect(inv.nothingStartsAfterFatal(trace)).toMatch(/s2 attempt 1\) starts after the fatal failure/)
    expect(inv.runFailsAfterFatal(trace)).toBeUndefined()
  })

  test("failFastStops: a running step finishing after a fatal failure", () => {
    const m = modelOf([{ failures: 1 }, { duration: 5 }])
    const trace: Trace = { model: m, events: [runStart(m), ready(0, "s0"), ready(0, "s1"), start(0, "s1"), start(0, "s0"), end(1, "s0", "failed"), end(5, "s1"), runEnd(5, "failed")] }
    expect(inv.failFastStops(trace)).toMatch(/s1 was running at the fatal failure .* and should end cancelled/)
    expect(inv.runningCancelledAtFatal(trace)).toMatch(/s1 was running/)
    expect(inv.nothingStartsAfterFatal(trace)).toBeUndefined()
    expect(inv.failFastStops({ ...trace, model: { ...m, failFast: false } })).toBeUndefined()
  })

  test("failFastStops: cancelling without fail-fast", () => {
    const m = modelOf([{ failures: 1 }, { duration: 5 }], { failFast: false })
    const trace: Trace = { model: m, events: [runStart(m), ready(0, "s0"), ready(0, "s1"), start(0, "s1"), start(0, "s0"), end(1, "s0", "failed"), end(1, "s1", "cancelled"), runEnd(1, "failed")] }
    expect(inv.failFastStops(trace)).toMatch(/fail-fast is off/)
    expect(inv.noCancelWithoutFailFast(trace)).toMatch(/fail-fast is off, yet .*s1 cancelled/)
  })

  test("runFailsAfterFatal: a run that succeeds after a fatal failure", () => {
    const m = modelOf([{ failures: 1 }])
    const trace: Trace = { model: m, events: [runStart(m), ready(0, "s0"), start(0, "s0"), end(1, "s0", "failed"), runEnd(1, "succeeded")] }
    expect(inv.runFailsAfterFatal(trace)).toMatch(/the run should end failed/)
  })

  test("cancelStops: a step still finishing after the abort", () => {
    expect(inv.cancelStops({ ...good, abortAt: 2 })).toMatch(/step:end +s1 succeeded.* finishes after the abort at 2 ms/)
    expect(inv.cancelStops({ ...good, abortAt: 3 })).toBeUndefined()
  })

  test("makespanMatches: a run slower than its critical path", () => {
    const m = { ...chain, concurrency: "unlimited" as const }
    expect(inv.makespanMatches(bad({ model: m, events: chainEvents(m) }, (e) => [...e.slice(0, -2), end(4, "s1"), runEnd(4)]))).toMatch(/took 4 ms, the critical path takes 3 ms/)
  })

  test("makespanMatches: a run slower than the reference schedule", () => {
    expect(inv.makespanMatches(bad(good, (e) => [...e.slice(0, -2), end(4, "s1"), runEnd(4)]))).toMatch(/took 4 ms, the reference schedule takes 3 ms/)
  })

  test("startsMatchReference: the shorter step started first", () => {
    const m = modelOf([{ duration: 1 }, { duration: 9 }], { concurrency: 1 })
    const trace: Trace = { model: m, events: [runStart(m), ready(0, "s0"), ready(0, "s1"), start(0, "s0"), end(1, "s0"), start(1, "s1"), end(10, "s1"), runEnd(10)] }
    expect(inv.startsMatchReference(trace)).toMatch(/start 1 differs: run s0#1@0, reference s1#1@0/)
  })

  test("sameTrace: two runs that part", () => {
    expect(inv.sameTrace(good, good)).toBeUndefined()
    expect(inv.sameTrace(good, bad(good, (e) => [...e.slice(0, -2), end(4, "s1"), runEnd(4)]))).toMatch(/the traces part at #6/)
  })
})

describe("the harness", () => {
  test("a broken invariant prints the graph and the trace", () => {
    const broken = bad(good, (e) => e.slice(0, -1))
    expect(() => check(broken)).toThrow(/wellFormed: the trace does not end with run:end[\s\S]*s1: 2 ms, needs \[s0\][\s\S]*step:start {4}s1 attempt 1/)
  })

  test("a run that never ends is reported with its trace, not awaited forever", async () => {
    const m = modelOf([{}])
    const wf = Workflow.make("stuck", { concurrency: 1 }, [{ ...toWorkflow(m).steps[0]!, run: () => Effect.never }])
    await expect(runOnTestClock(wf, 100)).rejects.toThrow(/had not ended after 100 virtual ms[\s\S]*step:start +s0 attempt 1/)
  })

  test("a real run passes every invariant", async () => {
    const m = modelOf([{ duration: 3 }, { needs: [0], duration: 2, failures: 1, retries: 1, retryDelay: 2 }, { after: [0], duration: 4 }, { needs: [1, 2] }])
    const { events } = await runOnTestClock(toWorkflow(m), horizonOf(m))
    expect(() => check({ model: m, events }, { ...inv.traceInvariants, makespanMatches: inv.makespanMatches, startsMatchReference: inv.startsMatchReference })).not.toThrow()
    expect(events.at(-1)).toMatchObject({ type: "run:end", status: "succeeded", time: 3 + 2 + 2 + 2 + 1 })
  })

  test("the reference catches a real run ranked by step count instead of duration", async () => {
    // a(5)→a2(1), b(5)→b2(1), c(1)→d(10), two slots. By duration c goes first (12 ms in all);
    // by step count every chain ties, declaration order starts a and b first (16 ms).
    const m = modelOf([{ duration: 5 }, { needs: [0] }, { duration: 5 }, { needs: [2] }, {}, { needs: [4], duration: 10 }], { concurrency: 2 })
    const wf = toWorkflow(m)
    const byCount = Workflow.make(wf.name, wf.options, wf.steps.map((def) => ({ ...def, estimate: undefined })))
    const ranked = await runOnTestClock(wf, horizonOf(m))
    const unranked = await runOnTestClock(byCount, horizonOf(m))
    expect(inv.makespanMatches({ model: m, events: ranked.events })).toBeUndefined()
    expect(inv.makespanMatches({ model: m, events: unranked.events })).toMatch(/took 16 ms, the reference schedule takes 12 ms/)
    expect(inv.startsMatchReference({ model: m, events: unranked.events })).toMatch(/start 1 differs/)
  })
})

describe("the resource invariants can fail", () => {
  /** s0 needs both units of r0 and ranks first (5 ms); s1 needs one (1 ms). */
  const m = modelOf([{ duration: 5, demand: [2] }, { demand: [1] }], { resources: [2] })
  const events = (...middle: Array<Event>): Array<Event> => [runStart(m), ready(0, "s0"), ready(0, "s1"), ...middle]
  const fine: Trace = { model: m, events: events(start(0, "s0"), end(5, "s0"), start(5, "s1"), end(6, "s1"), runEnd(6)) }

  test("a good trace passes", () => {
    expect(inv.withinResources(fine)).toBeUndefined()
    expect(inv.reservationHonoured(fine)).toBeUndefined()
    expect(inv.resourcesWorkConserving(fine)).toBeUndefined()
  })

  test("withinResources: both hold r0 at once, 3 units of 2", () => {
    const trace = { model: m, events: events(start(0, "s0"), start(0, "s1"), end(1, "s1"), end(5, "s0"), runEnd(5)) }
    expect(inv.withinResources(trace)).toMatch(/3 of r0 are held, over its capacity 2/)
  })

  test("reservationHonoured: s1 overtakes s0, which waits ranked higher", () => {
    const trace = { model: m, events: events(start(0, "s1"), end(1, "s1"), start(1, "s0"), end(6, "s0"), runEnd(6)) }
    expect(inv.reservationHonoured(trace)).toMatch(/step:start +s1 attempt 1\) takes r0 that s0, ranked higher and waiting, has reserved/)
  })

  test("resourcesWorkConserving: s1 waits through instant 5 with r0 free", () => {
    const trace = { model: m, events: events(start(0, "s0"), end(5, "s0"), start(6, "s1"), end(7, "s1"), runEnd(7)) }
    expect(inv.resourcesWorkConserving(trace)).toMatch(/s1 waits ready though a slot and its resources \[1\] are free/)
  })
})
