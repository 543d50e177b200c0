/**
 * `rateLimit` on memoized functions: real calls wait for the workflow's rate
 * limit across steps, answered calls do not, a batch takes one turn, a wait
 * is shown and ended, a wrong name fails the step clearly, and a wait ends
 * with the run.
 */
import { performance } from "node:perf_hooks"
import { describe, expect, it } from "vitest"
import { workflow } from "../dsl/Workflow.ts"
import type { Event, EventOf } from "./Event.ts"
import { memo, withMemoScope, makeMemoScope } from "./memo.ts"
import { run } from "./Run.ts"

const ids = (n: number) => Array.from({ length: n }, (_, i) => i)

/** The most of `times` in any half-open window of `ms`. */
const busiest = (times: ReadonlyArray<number>, ms: number): number =>
  Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + ms).length))

const runAll = async (wf: Parameters<typeof run>[0]) => {
  const events: Array<Event> = []
  const result = await run(wf, { cache: { mode: "off" }, onEvent: (e) => events.push(e) })
  return { result, events }
}

describe("memo's rateLimit", () => {
  it("spaces the real calls of steps running in parallel; a joined call does not wait", async () => {
    const calls: Array<number> = []
    const lookup = memo("lookup", async (n: number) => {
      calls.push(performance.now())
      return n * 2
    }, { rateLimit: "api" })
    const wf = workflow("calls", { concurrency: 8, rateLimits: { api: { limit: 2, per: 300 } } })
      .each("ask", ids(6), (i) => () => lookup(i))
      .step("again", () => lookup(0))
    const { result, events } = await runAll(wf)
    expect(result.status).toBe("succeeded")
    expect(result.outputs.ask).toEqual([0, 2, 4, 6, 8, 10])
    expect(calls).toHaveLength(6)
    // Two per 300 ms, so the six take at least 600 ms. The calls are timed as they run, a moment after
    // their turn (later still on a loaded machine): 50 ms of slack, far less than the limit's spacing.
    expect(busiest(calls, 250)).toBeLessThanOrEqual(2)
    expect(Math.max(...calls) - Math.min(...calls)).toBeGreaterThanOrEqual(550)
    const waits = events.filter((e): e is EventOf<"step:waiting"> => e.type === "step:waiting")
    expect(new Set(waits.map((e) => e.reason))).toEqual(new Set(["rate limit api (memo lookup)"]))
    expect(waits.filter((e) => e.over !== true).map((e) => e.step).sort()).toEqual(["ask:2", "ask:3", "ask:4", "ask:5"])
    expect(waits.filter((e) => e.over === true).map((e) => e.step).sort()).toEqual(["ask:2", "ask:3", "ask:4", "ask:5"])
    // A memoized call's wait keeps the step's slot: the step is running.
    expect(waits.some((e) => e.releases === true)).toBe(false)
    // `again` joined ask:0's call (or hit it): it never waited.
    expect(waits.some((e) => e.step === "again")).toBe(false)
  })

  it("takes one turn per batch call, however many keys it carries", async () => {
    const batches: Array<{ at: number; keys: Array<number> }> = []
    const many = memo.batched("many", async (keys: Array<number>) => {
      batches.push({ at: performance.now(), keys })
      return keys.map((k) => k + 1)
    }, { maxBatch: 3, rateLimit: "api" })
    const wf = workflow("batched", { concurrency: 9, rateLimits: { api: { limit: 1, per: 250 } } })
      .each("ask", ids(9), (i) => () => many(i))
    const { result } = await runAll(wf)
    expect(result.status).toBe("succeeded")
    expect(result.outputs.ask).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(batches.map((b) => b.keys.length)).toEqual([3, 3, 3])
    const gaps = batches.slice(1).map((b, i) => b.at - batches[i]!.at)
    // 250 ms apart at their turns; timed as they run, with 50 ms of slack for a loaded machine.
    expect(gaps.every((gap) => gap >= 200)).toBe(true)
  })

  it("a name that is not one of the workflow's rateLimits fails the step, naming the memo and the limit", async () => {
    const lookup = memo("lookup", async (n: number) => n, { rateLimit: "apii" })
    const wf = workflow("typo", { rateLimits: { api: { limit: 1, per: 100 } } }).step("ask", () => lookup(1))
    const { result } = await runAll(wf)
    expect(result.status).toBe("failed")
    expect(result.steps.ask!.error).toContain(`memo("lookup"): rateLimit "apii", which is not one of the workflow's rateLimits ("api"). Did you mean "api"?`)
  })

  it("is checked when the function is defined", () => {
    expect(() => memo("bad", async () => 1, { rateLimit: 3 as never })).toThrow(/memo\("bad"\): rateLimit 3 must name one of the workflow's rateLimits/)
    expect(() => memo.batched("bad", async (k: Array<number>) => k, { rateLimit: "" })).toThrow(/memo\.batched\("bad"\): rateLimit "" must name/)
  })

  it("outside a run there is no limit to wait for", async () => {
    const lookup = memo("outside", async (n: number) => n + 1, { rateLimit: "api" })
    const scope = makeMemoScope()
    expect(await withMemoScope(scope, () => Promise.all(ids(5).map((i) => lookup(i))))).toEqual([1, 2, 3, 4, 5])
  })

  it("a call waiting for its turn gives up when the run stops, and is never made", async () => {
    let made = 0
    const lookup = memo("slow", async (n: number) => {
      made++
      return n
    }, { rateLimit: "api" })
    const wf = workflow("stop", { concurrency: 5, rateLimits: { api: { limit: 1, per: "1 minute" } } })
      .each("ask", ids(3), (i) => () => lookup(i))
      .step("boom", async () => {
        await new Promise((resolve) => setTimeout(resolve, 50))
        throw new Error("boom")
      })
    const started = performance.now()
    const { result } = await runAll(wf)
    expect(result.status).toBe("failed")
    expect(performance.now() - started).toBeLessThan(10_000)
    // Give an abandoned wait a moment to (wrongly) go through.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(made).toBe(1)
    expect(result.steps["ask:1"]!.status).toBe("cancelled")
  })
})
