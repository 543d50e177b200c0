/**
 * The plain reporter while steps run: starts, throttled progress, a "still
 * running" line after each stretch of silence, and the ETA, on a clock the
 * test moves (no real waits).
 */
import { describe, expect, it } from "vitest"
import type { Event } from "../Event.ts"
import { plain, type PlainClock } from "./plain.ts"

/** Virtual time: timers fire as `advance` moves the clock past them. */
const virtualClock = () => {
  let now = 0
  let next = 0
  const timers = new Map<number, { at: number; run: () => void }>()
  const clock: PlainClock = {
    now: () => now,
    setTimeout: (run, ms) => {
      timers.set(++next, { at: now + ms, run })
      return next
    },
    clearTimeout: (handle) => void timers.delete(handle as number)
  }
  const advance = (ms: number) => {
    const until = now + ms
    for (;;) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0]
      if (due === undefined) break
      timers.delete(due[0])
      now = due[1].at
      due[1].run()
    }
    now = until
  }
  return { clock, advance, pending: () => timers.size, set: (t: number) => void (now = t) }
}

const setup = () => {
  const v = virtualClock()
  const out: Array<string> = []
  const reporter = plain({ write: (text) => void out.push(...text.split("\n").filter((l) => l !== "")), clock: v.clock })
  /** Feeds an event at its own time. */
  const at = (event: Event) => {
    v.advance(event.time - v.clock.now())
    reporter.onEvent(event)
  }
  return { v, out, reporter, at }
}

const runStart = (steps: Event & { type: "run:start" } extends infer E ? E extends { steps: infer S } ? S : never : never, concurrency = 2): Event =>
  ({ type: "run:start", time: 0, run: "r", workflow: "ci", steps, concurrency })

describe("plain: while steps run", () => {
  it("says when each step starts, with the ETA when one is known", () => {
    const { out, at } = setup()
    at(runStart([{ id: "build", deps: [], estimateMs: 180_000 }, { id: "lint", deps: [], estimateMs: 60_000 }, { id: "test", deps: ["build"], estimateMs: 60_000 }]))
    at({ type: "step:start", time: 0, step: "build", attempt: 1 })
    at({ type: "step:start", time: 0, step: "lint", attempt: 1 })
    expect(out.slice(1)).toEqual(["▸ build started · ETA ~4m00s", "▸ lint started · ETA ~4m00s"])
    at({ type: "step:retry", time: 60_000, step: "lint", attempt: 1, error: "flaky", delayMs: 1000 })
    at({ type: "step:start", time: 61_000, step: "lint", attempt: 2 })
    // build has 119 s left, then test 60 s; lint's second attempt ends beside them.
    expect(out.at(-1)).toBe("▸ lint started (attempt 2) · ETA ~2m59s")
  })

  it("names the worker a step started on, when the run has workers", () => {
    const { out, at } = setup()
    at(runStart([{ id: "build", deps: [] }]))
    at({ type: "step:start", time: 0, step: "build", attempt: 2, worker: "runner-1" })
    expect(out.at(-1)).toBe("▸ build started on runner-1 (attempt 2)")
  })

  it("prints a step's progress at most once per 10 s, and when it reaches its total", () => {
    const { out, at } = setup()
    at(runStart([{ id: "build", deps: [] }]))
    at({ type: "step:start", time: 0, step: "build", attempt: 1 })
    for (let s = 1; s <= 18; s++) at({ type: "step:progress", time: s * 1000, step: "build", done: s, total: 18, message: `file ${s}` })
    expect(out.filter((l) => l.startsWith("… build"))).toEqual([
      "… build 10/18 (56%) file 10",
      "… build 18/18 (100%) file 18"
    ])
    at({ type: "step:progress", time: 40_000, step: "build", done: 7 })
    expect(out.at(-1)).toBe("… build 7")
  })

  it("after every 30 s of silence, says what is still running and for how long", () => {
    const { out, at, v } = setup()
    at(runStart([{ id: "build", deps: [] }, { id: "test", deps: [] }]))
    at({ type: "step:start", time: 0, step: "build", attempt: 1 })
    // Silent from 0 s: at 30 s and at 60 s; then test starts at 85 s, and the next comes at 115 s.
    v.advance(30_000 - 1)
    expect(out.filter((l) => l.startsWith("… still"))).toEqual([])
    at({ type: "step:start", time: 85_000, step: "test", attempt: 1 })
    expect(out.filter((l) => l.startsWith("… still"))).toEqual(["… still running: build (30s)", "… still running: build (1m00s)"])
    v.advance(30_000 + 30_000 - 1)
    expect(out.filter((l) => l.startsWith("… still")).slice(2)).toEqual(["… still running: build (1m55s), test (30s)"])
    v.advance(1)
    expect(out.filter((l) => l.startsWith("… still")).slice(2)).toEqual(["… still running: build (1m55s), test (30s)", "… still running: build (2m25s), test (1m00s)"])
    // A line from a step restarts the silence.
    at({ type: "step:log", time: 150_000, step: "build", stream: "stdout", text: "linking" })
    v.advance(29_000)
    expect(out.at(-1)).toBe("build │ linking")
    v.advance(1000)
    expect(out.at(-1)).toBe("… still running: build (3m00s), test (1m35s)")
  })

  it("the still-running line carries the ETA, which keeps up with a step that overruns", () => {
    const { out, at, v } = setup()
    at(runStart([{ id: "build", deps: [], estimateMs: 10_000 }]))
    at({ type: "step:start", time: 0, step: "build", attempt: 1 })
    v.advance(30_000)
    expect(out.at(-1)).toBe("… still running: build (30s) · ETA ~10s")
    v.advance(30_000)
    expect(out.at(-1)).toBe("… still running: build (1m00s) · ETA ~25s")
  })

  it("a first run with no estimates gets an ETA once steps have ended", () => {
    const { out, at } = setup()
    at(runStart([{ id: "a", deps: [] }, { id: "b", deps: ["a"] }, { id: "c", deps: ["b"] }], 1))
    at({ type: "step:start", time: 0, step: "a", attempt: 1 })
    expect(out.at(-1)).toBe("▸ a started")
    at({ type: "step:end", time: 20_000, step: "a", status: "succeeded", durationMs: 20_000, attempts: 1 })
    at({ type: "step:start", time: 20_000, step: "b", attempt: 1 })
    expect(out.at(-1)).toBe("▸ b started · ETA ~40s")
  })

  it("names at most 8 running steps, and counts the rest", () => {
    const { out, at, v } = setup()
    const ids = Array.from({ length: 10 }, (_, i) => `s${i}`)
    at(runStart(ids.map((id) => ({ id, deps: [] })), 10))
    for (const id of ids) at({ type: "step:start", time: 0, step: id, attempt: 1 })
    v.advance(30_000)
    expect(out.at(-1)).toBe(`… still running: ${ids.slice(0, 8).map((id) => `${id} (30s)`).join(", ")} and 2 more`)
  })

  it("stops its timer at the end of the run: nothing after the summary", () => {
    const { out, at, v } = setup()
    at(runStart([{ id: "a", deps: [] }]))
    at({ type: "step:start", time: 0, step: "a", attempt: 1 })
    at({ type: "step:end", time: 10, step: "a", status: "succeeded", durationMs: 10, attempts: 1 })
    at({ type: "run:end", time: 10, status: "succeeded", durationMs: 10 })
    const lines = out.length
    v.advance(120_000)
    expect(out.length).toBe(lines)
    expect(v.pending()).toBe(0)
  })
})
