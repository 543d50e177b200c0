import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { workflow } from "../dsl/Workflow.ts"
import { runVirtual } from "../test/fixtures/virtual.ts"
import type { Event, StepInfo } from "./Event.ts"
import { showsParallelism, SummaryBuilder } from "./Summary.ts"

const start = (steps: ReadonlyArray<StepInfo>, concurrency = 4): Event => ({ type: "run:start", time: 0, run: "r", workflow: "w", steps, concurrency })
const ran = (step: string, ready: number, begin: number, end: number, status: "succeeded" | "failed" = "succeeded"): Array<Event> => [
  { type: "step:ready", time: ready, step },
  { type: "step:start", time: begin, step, attempt: 1 },
  { type: "step:end", time: end, step, status, durationMs: end - begin, attempts: 1 }
]
const fold = (events: ReadonlyArray<Event>) => {
  const b = new SummaryBuilder()
  for (const e of [...events].sort((x, y) => x.time - y.time)) b.add(e)
  return b.summary()
}

describe("the summary's critical path: what happened", () => {
  it("leaves out skipped steps on a failed run", () => {
    const s = fold([
      start([{ id: "fetch", deps: [] }, { id: "bad", deps: ["fetch"] }, { id: "after-bad", deps: ["bad"] }]),
      ...ran("fetch", 0, 0, 30),
      ...ran("bad", 30, 30, 35, "failed"),
      { type: "step:end", time: 35, step: "after-bad", status: "skipped", durationMs: 0, attempts: 0 },
      { type: "run:end", time: 35, status: "failed", durationMs: 35 }
    ])
    expect(s.criticalPath).toEqual(["fetch", "bad"])
    expect(s.criticalPathMs).toBe(35)
  })

  it("follows waits for a slot: the chain that decided the end, not the sum of durations", () => {
    // Concurrency 1: a, b, c are independent and wait for each other's slot; the run takes 1340 ms.
    const s = fold([
      start([{ id: "a", deps: [] }, { id: "b", deps: [] }, { id: "c", deps: [] }], 1),
      ...ran("a", 0, 0, 610),
      ...ran("b", 0, 610, 1000),
      ...ran("c", 0, 1000, 1340),
      { type: "run:end", time: 1340, status: "succeeded", durationMs: 1340 }
    ])
    expect(s.criticalPath).toEqual(["a", "b", "c"])
    expect(s.criticalPathMs).toBe(1340)
  })

  it("counts a wait that no step's end explains (a rate limit) as part of the step after it", () => {
    const s = fold([
      start([{ id: "a", deps: [] }, { id: "b", deps: ["a"] }, { id: "side", deps: [] }]),
      ...ran("a", 0, 0, 100),
      ...ran("side", 0, 0, 50),
      { type: "step:waiting", time: 100, step: "b", reason: "rate limit api" },
      ...ran("b", 100, 700, 800),
      { type: "run:end", time: 800, status: "succeeded", durationMs: 800 }
    ])
    expect(s.criticalPath).toEqual(["a", "b"])
    expect(s.criticalPathMs).toBe(800)
  })

  it("picks the dependency that ended last", () => {
    const s = fold([
      start([{ id: "x", deps: [] }, { id: "y", deps: [] }, { id: "z", deps: ["x", "y"] }]),
      ...ran("x", 0, 0, 100),
      ...ran("y", 0, 0, 300),
      ...ran("z", 300, 300, 400),
      { type: "run:end", time: 400, status: "succeeded", durationMs: 400 }
    ])
    expect(s.criticalPath).toEqual(["y", "z"])
    expect(s.criticalPathMs).toBe(400)
  })
})

describe("parallelism is shown only when it means something", () => {
  it("not for a short run, nor for a run of one step; yes for a second of several steps", () => {
    const short = fold([start([{ id: "a", deps: [] }, { id: "b", deps: [] }]), ...ran("a", 0, 0, 30), ...ran("b", 0, 0, 30), { type: "run:end", time: 500, status: "succeeded", durationMs: 500 }])
    expect(showsParallelism(short)).toBe(false)
    const one = fold([start([{ id: "a", deps: [] }]), ...ran("a", 0, 0, 3000), { type: "run:end", time: 3000, status: "succeeded", durationMs: 3000 }])
    expect(showsParallelism(one)).toBe(false)
    const real = fold([start([{ id: "a", deps: [] }, { id: "b", deps: [] }]), ...ran("a", 0, 0, 2000), ...ran("b", 0, 0, 2000), { type: "run:end", time: 2000, status: "succeeded", durationMs: 2000 }])
    expect(showsParallelism(real)).toBe(true)
    expect(real.parallelism).toBe(2)
  })
})

describe("the critical path of a real run under resource limits (virtual time)", () => {
  it("follows the waits for a resource: the chain spans the run, not the longest single step", async () => {
    const wf = workflow("w", { concurrency: 4, resources: { db: 1 } })
      .step("migrate", { resources: { db: 1 } }, () => Effect.sleep(610))
      .step("seed", { resources: { db: 1 } }, () => Effect.sleep(730))
      .step("lint", () => Effect.sleep(100))
    const { events, result } = await runVirtual(wf)
    const b = new SummaryBuilder()
    events.forEach((e) => b.add(e))
    const s = b.summary()
    expect(result.durationMs).toBe(1340)
    expect(s.criticalPathMs).toBe(1340)
    expect([...s.criticalPath].sort()).toEqual(["migrate", "seed"])
  })
})
