/**
 * `--trace`: the file a run leaves is a valid trace whose bars are the run's
 * step attempts, on tracks that never hold two at once.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { afterAll, describe, expect, it } from "vitest"
import { workflow } from "../../dsl/Workflow.ts"
import type { Event, EventOf } from "../Event.ts"
import { run } from "../Run.ts"
import { TraceBuilder, traceWriter, type Trace, type TraceEvent } from "./Trace.ts"
import { runVirtual } from "../../test/fixtures/virtual.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
const traceFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-trace-"))
  dirs.push(dir)
  return path.join(dir, "out", "trace.json")
}


const sleep = (ms: number) => () => Effect.sleep(ms)
const bars = (trace: Trace) => trace.traceEvents.filter((e) => e.ph === "X")

/** Two bars on one track overlap: the trace would draw a step on top of another. */
const overlaps = (trace: Trace): Array<string> => {
  const byTrack = new Map<number, Array<TraceEvent>>()
  for (const e of bars(trace)) byTrack.set(e.tid, [...(byTrack.get(e.tid) ?? []), e])
  return [...byTrack.values()].flatMap((track) => {
    const sorted = track.toSorted((a, b) => a.ts! - b.ts!)
    return sorted.slice(1).flatMap((e, i) => (e.ts! < sorted[i]!.ts! + sorted[i]!.dur! ? [`${sorted[i]!.name} and ${e.name} on track ${e.tid}`] : []))
  })
}

describe("traceWriter", () => {
  it("writes one bar per attempt, on tracks that never overlap, lasting what the events say", async () => {
    const file = traceFile()
    let tries = 0
    const wf = workflow("traced", { concurrency: 3 })
      .step("a", sleep(40))
      .step("b", sleep(10))
      .step("flaky", { retry: { times: 2, delay: 5 } }, () => Effect.andThen(Effect.sleep(10), ++tries < 3 ? Effect.fail(new Error("again")) : Effect.void))
      .step("c", { after: ["b"] }, sleep(15))
      .step("d", { after: ["c"] }, sleep(5))
      .step("e", { after: ["a", "d"] }, sleep(5))
    const { events } = await runVirtual(wf, { reporter: traceWriter({ file }) })
    const trace = JSON.parse(readFileSync(file, "utf8")) as Trace
    expect(trace.displayTimeUnit).toBe("ms")
    expect(overlaps(trace)).toEqual([])

    const ends = events.filter((e): e is EventOf<"step:end"> => e.type === "step:end")
    for (const end of ends) {
      const mine = bars(trace).filter((e) => e.name === end.step).toSorted((x, y) => x.ts! - y.ts!)
      expect(mine.map((e) => e.args!.attempt)).toEqual(Array.from({ length: end.attempts }, (_, i) => i + 1))
      const last = mine.at(-1)!
      expect(last.args).toMatchObject({ status: "succeeded", cached: false })
      expect((last.ts! + last.dur! - mine[0]!.ts!) / 1000).toBe(end.durationMs)
      expect((last.ts! + last.dur!) / 1000).toBe(end.time)
    }
    expect(bars(trace).filter((e) => e.name === "flaky").map((e) => e.args!.status)).toEqual(["failed", "failed", "succeeded"])

    const meta = trace.traceEvents.filter((e) => e.ph === "M")
    const start = events[0] as EventOf<"run:start">
    expect(meta.find((e) => e.name === "process_name")!.args!.name).toBe(`weft: traced ${start.run}`)
    const slots = meta.filter((e) => e.name === "thread_name").map((e) => [e.tid, e.args!.name])
    expect(slots).toEqual([[1, "slot 1"], [2, "slot 2"], [3, "slot 3"]])
    // Every bar is on a named slot.
    expect(new Set(bars(trace).map((e) => e.tid))).toEqual(new Set([1, 2, 3]))
  })

  it("puts each attempt on the lowest free slot", () => {
    const b = new TraceBuilder()
    const feed: Array<Event> = [
      { type: "run:start", time: 0, run: "r", workflow: "w", steps: [], concurrency: 3 },
      { type: "step:start", time: 0, step: "x", attempt: 1 },
      { type: "step:start", time: 0, step: "y", attempt: 1 },
      { type: "step:end", time: 5, step: "x", status: "succeeded", durationMs: 5, attempts: 1 },
      { type: "step:start", time: 6, step: "z", attempt: 1 },
      { type: "step:end", time: 7, step: "y", status: "succeeded", durationMs: 7, attempts: 1 },
      { type: "step:end", time: 9, step: "z", status: "succeeded", durationMs: 3, attempts: 1 },
      { type: "run:end", time: 9, status: "succeeded", durationMs: 9 }
    ]
    for (const e of feed) b.add(e)
    expect(bars(b.trace()).map((e) => [e.name, e.tid])).toEqual([["x", 1], ["y", 2], ["z", 1]])
  })

  it("ends attempts still running where the trace ends, when read before the run ends", () => {
    const b = new TraceBuilder()
    b.add({ type: "run:start", time: 0, run: "r", workflow: "w", steps: [], concurrency: 1 })
    b.add({ type: "step:start", time: 2, step: "long", attempt: 1 })
    b.add({ type: "step:log", time: 7, step: "long", stream: "stdout", text: "still going" })
    expect(bars(b.trace())).toEqual([expect.objectContaining({ name: "long", tid: 1, ts: 2000, dur: 5000, args: { status: "running", attempt: 1, cached: false } })])
  })

  it("shows cache answers as instants on their own track", async () => {
    const file = traceFile()
    const dir = path.join(path.dirname(file), ".weft", "cache")
    const wf = workflow("cached").step("a", { cache: true }, () => 1).step("b", { needs: ["a"] }, () => 2)
    await run(wf, { cache: { dir, root: path.dirname(file) } })
    await run(wf, { cache: { dir, root: path.dirname(file) }, reporter: traceWriter({ file }) })
    const trace = JSON.parse(readFileSync(file, "utf8")) as Trace
    const instants = trace.traceEvents.filter((e: TraceEvent) => e.ph === "i")
    expect(instants).toEqual([expect.objectContaining({ name: "a", tid: 0, s: "t", args: expect.objectContaining({ status: "cached", cached: true }) })])
    expect(bars(trace).map((e) => e.name)).toEqual(["b"])
    expect(trace.traceEvents.find((e) => e.name === "thread_name" && e.tid === 0)!.args!.name).toBe("cached")
  })

  it("is written when the run fails or is cancelled, running steps ending with it", async () => {
    const file = traceFile()
    const controller = new AbortController()
    const wf = workflow("stopped", { concurrency: 2 })
      .step("slow", (_, ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)))
      .step("quick", () => {
        setTimeout(() => controller.abort(), 5)
        return 1
      })
    const result = await run(wf, { reporter: traceWriter({ file }), signal: controller.signal })
    expect(result.status).toBe("cancelled")
    const trace = JSON.parse(readFileSync(file, "utf8")) as Trace
    expect(bars(trace).find((e) => e.name === "slow")!.args!.status).toBe("cancelled")
    expect(bars(trace).find((e) => e.name === "quick")!.args!.status).toBe("succeeded")
  })
})
