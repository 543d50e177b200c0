import { describe, expect, it } from "vitest"
import type { Event, StepInfo } from "../runtime/Event.ts"
import { Model } from "./model.ts"

/** A model on a clock the test sets. */
const make = (options: { estimates?: ReadonlyMap<string, number>; runNumber?: number; ringSize?: number } = {}) => {
  const clock = { now: 0 }
  const model = new Model({ ...options, now: () => clock.now })
  return { model, clock }
}

const start = (steps: ReadonlyArray<StepInfo>, concurrency = 4): Event => ({ type: "run:start", time: 0, run: "r1", workflow: "wf", steps, concurrency })
const diamond: ReadonlyArray<StepInfo> = [
  { id: "a", deps: [] },
  { id: "b", deps: ["a"], estimateMs: 100 },
  { id: "z", deps: [] },
  { id: "c", deps: ["a"], estimateMs: 300 },
  { id: "d", deps: ["b", "c"], estimateMs: 50 }
]

describe("Model: laying out a run", () => {
  it("groups rows by dependency level, in declaration order within a level", () => {
    const { model } = make()
    model.apply(start(diamond))
    expect(model.steps.map((s) => [s.id, s.level])).toEqual([["a", 0], ["z", 0], ["b", 1], ["c", 1], ["d", 2]])
    expect(model.steps.map((s) => s.row)).toEqual([0, 1, 2, 3, 4])
  })

  it("marks the expected critical path by estimates: a → c → d, not the lighter b", () => {
    const { model } = make()
    model.apply(start(diamond))
    expect(model.steps.filter((s) => s.critical).map((s) => s.id)).toEqual(["a", "c", "d"])
  })

  it("takes estimates from run:start, else from the options (history)", () => {
    const { model } = make({ estimates: new Map([["a", 40], ["b", 999]]) })
    model.apply(start(diamond))
    expect(model.step("a")!.estimateMs).toBe(40)
    expect(model.step("b")!.estimateMs).toBe(100)
    expect(model.step("z")!.estimateMs).toBeUndefined()
  })
})

describe("Model: folding events", () => {
  it("tracks running steps (slots in use), ended steps, elapsed time and the ETA", () => {
    const { model, clock } = make({ estimates: new Map([["a", 1000], ["z", 1000]]) })
    model.apply(start(diamond, 2))
    model.apply({ type: "step:start", time: 0, step: "a", attempt: 1 })
    model.apply({ type: "step:start", time: 0, step: "z", attempt: 1 })
    clock.now = 40
    expect(model.running.size).toBe(2)
    expect(model.runTime()).toBe(40)
    // a: 960 left, then b and c side by side (300), then d (50); z ends meanwhile.
    expect(model.eta()).toEqual({ ms: 960 + 300 + 50, left: 5, unknown: 0 })
    model.apply({ type: "step:end", time: 100, step: "a", status: "succeeded", durationMs: 100, attempts: 1 })
    expect(model.running.size).toBe(1)
    expect(model.endedCount).toBe(1)
    expect(model.counts.succeeded).toBe(1)
  })

  it("keeps each step's lines apart, whatever order they arrive in", () => {
    const { model } = make()
    model.apply(start(diamond))
    for (let i = 0; i < 3; i++) {
      model.apply({ type: "step:log", time: i, step: "b", stream: "stdout", text: `b ${i}` })
      model.apply({ type: "step:log", time: i, step: "c", stream: "stderr", text: `c ${i}` })
    }
    model.apply({ type: "step:partial", time: 4, step: "b", index: 0, text: "part 0" })
    expect(model.step("b")!.lines.window(10).map((l) => l.text)).toEqual(["b 0", "b 1", "b 2", "part 0"])
    expect(model.step("c")!.lines.window(10).map((l) => `${l.kind} ${l.text}`)).toEqual(["stderr c 0", "stderr c 1", "stderr c 2"])
  })

  it("splits multi-line output, strips escape sequences, keeps only the newest lines", () => {
    const { model } = make({ ringSize: 3 })
    model.apply(start(diamond))
    model.apply({ type: "step:log", time: 0, step: "a", stream: "stdout", text: "one\n\u001B[31mtwo\u001B[0m\nthree\n" })
    model.apply({ type: "step:log", time: 0, step: "a", stream: "stdout", text: "50%\r100%" })
    const a = model.step("a")!
    expect(a.lines.window(10).map((l) => l.text)).toEqual(["two", "three", "100%"])
    expect(a.lines.dropped).toBe(1)
  })

  it("records progress, attempts, retries, cache hits and memo answers", () => {
    const { model } = make()
    model.apply(start(diamond))
    model.apply({ type: "step:start", time: 0, step: "a", attempt: 1 })
    model.apply({ type: "step:progress", time: 1, step: "a", done: 3, total: 8, message: "compiling" })
    model.apply({ type: "step:retry", time: 2, step: "a", attempt: 1, error: "flaky", delayMs: 10 })
    expect(model.step("a")!.retrying).toBe(true)
    model.apply({ type: "step:start", time: 12, step: "a", attempt: 2 })
    model.apply({ type: "step:memo", time: 13, step: "a", name: "fetch", outcome: "hit", savedMs: 50 })
    model.apply({ type: "step:memo", time: 13, step: "a", name: "fetch", outcome: "miss", savedMs: 0 })
    model.apply({ type: "step:end", time: 20, step: "z", status: "cached", durationMs: 0, attempts: 0, savedMs: 900 })
    const a = model.step("a")!
    expect(a.progress).toEqual({ done: 3, total: 8, message: "compiling" })
    expect([a.attempt, a.retrying, a.memoHits, a.memoCalls]).toEqual([2, false, 1, 2])
    expect(a.startedAt).toBe(0)
    expect(a.attemptStartedAt).toBe(12)
    expect(model.step("z")).toMatchObject({ status: "cached", savedMs: 900 })
  })

  it("puts a failed step's error in its log", () => {
    const { model } = make()
    model.apply(start(diamond))
    model.apply({ type: "step:end", time: 5, step: "a", status: "failed", durationMs: 5, attempts: 1, error: "boom\n  at line 2" })
    expect(model.step("a")!.lines.window(5)).toEqual([{ kind: "error", text: "boom" }, { kind: "error", text: "  at line 2" }])
  })
})

describe("Model: the selection", () => {
  it("follows the step that has run longest, then the first failure, until the user moves it", () => {
    const { model } = make()
    model.apply(start(diamond))
    model.apply({ type: "step:start", time: 0, step: "z", attempt: 1 })
    model.apply({ type: "step:start", time: 0, step: "a", attempt: 1 })
    expect(model.selectedStep()!.id).toBe("z")
    model.apply({ type: "step:end", time: 1, step: "z", status: "succeeded", durationMs: 1, attempts: 1 })
    expect(model.selectedStep()!.id).toBe("a")
    model.apply({ type: "step:start", time: 2, step: "b", attempt: 1 })
    model.apply({ type: "step:end", time: 3, step: "b", status: "failed", durationMs: 1, attempts: 1, error: "x" })
    expect(model.selectedStep()!.id).toBe("b")
    model.move(-1)
    expect(model.selectedStep()!.id).toBe("z")
    model.apply({ type: "step:end", time: 4, step: "a", status: "failed", durationMs: 4, attempts: 1, error: "y" })
    expect(model.selectedStep()!.id).toBe("z")
  })

  it("clamps moves and log scrolling to what exists", () => {
    const { model } = make()
    model.apply(start(diamond))
    model.move(-5)
    expect(model.selected).toBe(0)
    model.move(99)
    expect(model.selected).toBe(4)
    for (let i = 0; i < 30; i++) model.apply({ type: "step:log", time: i, step: "d", stream: "log", text: `line ${i}` })
    model.page(1, 8)
    expect(model.scroll).toBe(8)
    for (let i = 0; i < 5; i++) model.page(1, 8)
    expect(model.scroll).toBe(22)
    model.page(-1, 8)
    expect(model.scroll).toBe(14)
  })
})

describe("Model: the end of a run, and watch mode's next ones", () => {
  it("summarises at run:end with SummaryBuilder, and marks the critical path that happened", () => {
    const { model } = make()
    model.apply(start(diamond))
    // What happened: a and z from 0, then b and c when a ended, then d when b ended.
    const ran: Array<[string, number, number]> = [["a", 0, 10], ["z", 0, 5], ["b", 10, 510], ["c", 10, 30], ["d", 510, 520]]
    for (const [step, from, to] of ran) {
      model.apply({ type: "step:start", time: from, step, attempt: 1 })
      model.apply({ type: "step:end", time: to, step, status: "succeeded", durationMs: to - from, attempts: 1 })
    }
    model.apply({ type: "run:end", time: 520, status: "succeeded", durationMs: 520 })
    expect(model.phase).toBe("ended")
    expect(model.summary!.criticalPath).toEqual(["a", "b", "d"])
    expect(model.steps.filter((s) => s.critical).map((s) => s.id)).toEqual(["a", "b", "d"])
    expect(model.runTime()).toBe(520)
  })

  it("numbers each run:start after the first, and starts each run afresh", () => {
    const { model } = make({ runNumber: 7 })
    model.apply(start(diamond))
    expect(model.runNumber).toBe(7)
    model.apply({ type: "step:log", time: 0, step: "a", stream: "log", text: "old" })
    model.apply({ type: "run:end", time: 1, status: "failed", durationMs: 1 })
    model.apply(start(diamond.slice(0, 2)))
    expect(model.runNumber).toBe(8)
    expect(model.phase).toBe("running")
    expect(model.steps.map((s) => s.id)).toEqual(["a", "b"])
    expect(model.step("a")!.lines.size).toBe(0)
    expect(model.summary).toBeUndefined()
  })

  it("clears a definition error when the next run starts", () => {
    const { model } = make()
    model.applyWatch({ type: "watch:error", time: 0, file: "wf.ts", message: "bad" })
    expect(model.watch.error).toBeDefined()
    model.apply(start(diamond))
    expect(model.watch.error).toBeUndefined()
  })

  it("bumps its version on every change, so the renderer knows when to draw", () => {
    const { model } = make()
    const before = model.version
    model.apply(start(diamond))
    model.applyWatch({ type: "watch:idle", time: 0 })
    model.move(1)
    expect(model.version).toBe(before + 3)
  })
})
