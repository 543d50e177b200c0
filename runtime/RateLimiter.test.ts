/**
 * Rate limits on virtual time: the limit holds over every window, steps are
 * not held back further than it needs, limiters are independent, waits are
 * announced, `retryAfter` stretches a retry's delay, and mistakes in the
 * options are definition errors.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { isDefinitionError } from "../dsl/DefinitionError.ts"
import type { RetryOption } from "../dsl/Step.ts"
import { workflow } from "../dsl/Workflow.ts"
import { runVirtual } from "../test/fixtures/virtual.ts"
import type { Event, EventOf } from "./Event.ts"
import * as Plan from "./Plan.ts"
import { RateLimiter } from "./RateLimiter.ts"
import { plain } from "./reporters/plain.ts"

const ids = (n: number) => Array.from({ length: n }, (_, i) => i)

/** The start times of the steps whose id starts with `prefix`, in order. */
const startTimes = (events: ReadonlyArray<Event>, prefix: string): Array<number> =>
  events.flatMap((e) => (e.type === "step:start" && e.step.startsWith(prefix) ? [e.time] : []))

/** The most starts in any half-open window of `perMs`: the busiest window begins at some start. */
const busiestWindow = (times: ReadonlyArray<number>, perMs: number): number =>
  Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + perMs).length))

class RateLimited extends Error {
  readonly retryAfter: unknown
  constructor(retryAfter: unknown) {
    super("429 Too Many Requests")
    this.retryAfter = retryAfter
  }
}

describe("rate limits", () => {
  it("holds 3 per second across 50 parallel steps, and spaces them no further", async () => {
    const wf = workflow("calls", { concurrency: 50, rateLimits: { openai: { limit: 3, per: "1 second" } } })
      .each("call", ids(50), { rateLimit: "openai" }, () => () => Effect.sleep(100))
    const { result, events } = await runVirtual(wf)
    expect(result.status).toBe("succeeded")
    const starts = startTimes(events, "call:")
    expect(starts).toHaveLength(50)
    expect(busiestWindow(starts, 1000)).toBe(3)
    // Three at once, then three more each second: the 49th and 50th start at
    // 16 s and take 100 ms. 50/3 s, not serialised any further.
    expect(result.durationMs).toBe(16_100)
  })

  it("counts every attempt, retries included, against the limit", async () => {
    const wf = workflow("flaky", { concurrency: 10, rateLimits: { api: { limit: 2, per: 500 } } })
      .each("call", ids(6), { rateLimit: "api", retry: 2 }, () => (_: unknown, ctx: { attempt: number }) =>
        ctx.attempt < 3 ? Effect.fail(new Error("flaky")) : Effect.succeed(ctx.attempt))
    const { result, events } = await runVirtual(wf)
    expect(result.status).toBe("succeeded")
    const starts = startTimes(events, "call:")
    expect(starts).toHaveLength(18)
    expect(busiestWindow(starts, 500)).toBe(2)
  })

  it("keeps limiters apart: steps on one never wait for another's", async () => {
    const wf = workflow("two", {
      concurrency: 20,
      rateLimits: { openai: { limit: 1, per: "1 second" }, anthropic: { limit: 1, per: "1 second" } }
    })
      .each("openai", ids(5), { rateLimit: "openai" }, () => () => Effect.sleep(10))
      .each("anthropic", ids(5), { rateLimit: "anthropic" }, () => () => Effect.sleep(10))
      .step("free", () => Effect.sleep(10))
    const { result, events } = await runVirtual(wf)
    expect(startTimes(events, "openai:")).toEqual([0, 1000, 2000, 3000, 4000])
    expect(startTimes(events, "anthropic:")).toEqual([0, 1000, 2000, 3000, 4000])
    expect(startTimes(events, "free")).toEqual([0])
    expect(result.durationMs).toBe(4010)
  })

  it("announces a wait with step:waiting before the step starts, and plain shows it", async () => {
    const wf = workflow("calls", { concurrency: 5, rateLimits: { openai: { limit: 3, per: "1 second" } } })
      .each("call", ids(5), { rateLimit: "openai" }, () => () => 1)
    const { events } = await runVirtual(wf)
    const waiting = events.filter((e): e is EventOf<"step:waiting"> => e.type === "step:waiting")
    expect(waiting.map((e) => [e.step, e.time, e.reason, e.releases])).toEqual([
      ["call:3", 0, "rate limit openai", true],
      ["call:4", 0, "rate limit openai", true]
    ])
    const started = events.findIndex((e) => e.type === "step:start" && e.step === "call:3")
    expect(events.findIndex((e) => e.type === "step:waiting" && e.step === "call:3")).toBeLessThan(started)
    let text = ""
    const reporter = plain({ write: (s) => void (text += s) })
    for (const event of events) reporter.onEvent(event)
    expect(text).toMatch(/call:3 +│ waiting: rate limit openai\n/)
    expect(text).not.toMatch(/call:0 +│ waiting/)
  })

  it("does not count the wait against an attempt's timeout", async () => {
    const wf = workflow("slow", { concurrency: 3, rateLimits: { api: { limit: 1, per: "1 second" } } })
      .each("call", ids(3), { rateLimit: "api", timeout: 100 }, () => () => Effect.sleep(50))
    const { result, events } = await runVirtual(wf)
    expect(result.status).toBe("succeeded")
    expect(startTimes(events, "call:")).toEqual([0, 1000, 2000])
  })

  it("gives up a wait at once when the run stops", async () => {
    const wf = workflow("stop", { concurrency: 5, rateLimits: { api: { limit: 1, per: "1 minute" } } })
      .each("call", ids(4), { rateLimit: "api" }, () => () => Effect.sleep(10))
      .step("boom", () => Effect.andThen(Effect.sleep(5), Effect.fail(new Error("boom"))))
    const { result, events } = await runVirtual(wf)
    expect(result.status).toBe("failed")
    // The three waiting for the next minute are interrupted with the running one, at 5 ms.
    expect(result.durationMs).toBe(5)
    expect(startTimes(events, "call:")).toEqual([0])
    expect(events.filter((e) => e.type === "step:end" && e.status === "cancelled").map((e) => (e as EventOf<"step:end">).step).sort())
      .toEqual(["call", "call:0", "call:1", "call:2", "call:3"])
  })

  it("run:start announces the limits and resources, and each step's, for reporters (the dashboard's ETA)", async () => {
    const wf = workflow("announced", { rateLimits: { api: { limit: 3, per: "2 seconds" } }, resources: { db: 1 } })
      .step("call", { rateLimit: "api" }, () => 1)
      .step("migrate", { resources: { db: 1 } }, () => 2)
      .step("plain", () => 3)
    const { start } = await runVirtual(wf)
    expect(start.rateLimits).toEqual({ api: { limit: 3, perMs: 2000 } })
    expect(start.resources).toEqual({ db: 1 })
    expect(start.steps).toEqual([
      { id: "call", deps: [], rateLimit: "api" },
      { id: "migrate", deps: [], resources: { db: 1 } },
      { id: "plain", deps: [] }
    ])
    const { start: bare } = await runVirtual(workflow("bare").step("plain", () => 3))
    expect(bare).not.toHaveProperty("rateLimits")
    expect(bare).not.toHaveProperty("resources")
  })

  it("costs nothing and says nothing for a step without a rate limit", async () => {
    const wf = workflow("free", { concurrency: 10, rateLimits: { openai: { limit: 1, per: "1 second" } } })
      .each("call", ids(10), () => () => 1)
    const { result, events } = await runVirtual(wf)
    expect(result.durationMs).toBe(0)
    expect(events.some((e) => e.type === "step:waiting")).toBe(false)
  })
})

/** The most step bodies running at once: each runs from its `step:start` to its `step:end`. */
const mostRunning = (events: ReadonlyArray<Event>): number => {
  let running = 0
  let most = 0
  // At equal times ends go first: a slot given back and taken again at one instant is one slot.
  const edges = events.flatMap((e) => (e.type === "step:start" ? [[e.time, 1]] : e.type === "step:end" && e.attempts > 0 ? [[e.time, -1]] : []))
    .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!)
  for (const [, delta] of edges) most = Math.max(most, (running += delta!))
  return most
}

describe("waiting for a rate limit without a slot", () => {
  it("gives the slot to a step that can start while rate-limited steps wait", async () => {
    // Two slots; the calls rank first (longer), so they take both. The two
    // that must wait give theirs back, and the quick step starts at once
    // rather than after the first call.
    const wf = workflow("slots", { concurrency: 2, rateLimits: { api: { limit: 1, per: "1 second" } } })
      .each("call", ids(3), { rateLimit: "api" }, () => () => Effect.sleep(10))
      .step("quick", () => Effect.sleep(5))
    const { result, events } = await runVirtual(wf)
    expect(result.status).toBe("succeeded")
    expect(startTimes(events, "quick")).toEqual([0])
    expect(startTimes(events, "call:")).toEqual([0, 1000, 2000])
    expect(mostRunning(events)).toBeLessThanOrEqual(2)
  })

  it("takes a slot back before its start counts, ahead of steps not yet started", async () => {
    // One slot. call:1 and call:2 wait for the limit without it, so long:0
    // runs meanwhile. call:1's turn comes at 1 s while long:0 holds the slot:
    // it gets the slot when long:0 ends (1.51 s), before long:1, which was
    // ready first but had not started; call:2's turn comes a second after
    // call:1 really started.
    const wf = workflow("busy", { concurrency: 1, rateLimits: { api: { limit: 1, per: "1 second" } } })
      .each("call", ids(3), { rateLimit: "api", estimate: "3 seconds" }, () => () => Effect.sleep(10))
      .each("long", ids(2), { estimate: "1 second" }, () => () => Effect.sleep(1500))
    const { result, events } = await runVirtual(wf)
    expect(result.status).toBe("succeeded")
    const starts = events.flatMap((e) => (e.type === "step:start" && e.step.includes(":") ? [`${e.step}@${e.time}`] : []))
    expect(starts).toEqual(["call:0@0", "long:0@10", "call:1@1510", "long:1@1520", "call:2@3020"])
    expect(mostRunning(events)).toBe(1)
  })

  it("holds the concurrency, the limits and the slots for random workflows", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ limit: fc.constantFrom(undefined, "a", "b"), ms: fc.integer({ min: 0, max: 300 }) }), { minLength: 1, maxLength: 12 }),
        fc.record({ limit: fc.integer({ min: 1, max: 3 }), per: fc.integer({ min: 50, max: 1000 }) }),
        async (concurrency, specs, b) => {
          let wf = workflow("random", { concurrency, rateLimits: { a: { limit: 1, per: 300 }, b } }) as ReturnType<typeof workflow>
          specs.forEach((spec, i) => {
            wf = wf.step(`s${i}`, spec.limit === undefined ? {} : { rateLimit: spec.limit }, () => Effect.sleep(spec.ms)) as typeof wf
          })
          const { result, events } = await runVirtual(wf)
          expect(result.status).toBe("succeeded")
          expect(mostRunning(events)).toBeLessThanOrEqual(concurrency)
          const startsOf = (limit: string | undefined) =>
            startTimes(events, "s").filter((_, k) => specs[Number(events.filter((e) => e.type === "step:start")[k]!.step.slice(1))]!.limit === limit)
          expect(busiestWindow(startsOf("a"), 300)).toBeLessThanOrEqual(1)
          expect(busiestWindow(startsOf("b"), b.per)).toBeLessThanOrEqual(b.limit)
          // Work-conserving for the steps without a limit: none waits while a slot is free.
          const free = startTimes(events, "s").filter((_, k) => specs[Number(events.filter((e) => e.type === "step:start")[k]!.step.slice(1))]!.limit === undefined)
          const edges = events.flatMap((e) => (e.type === "step:start" || (e.type === "step:end" && e.attempts > 0) ? [e] : []))
          for (const start of free) {
            for (const t of new Set([0, ...edges.map((e) => e.time)])) {
              if (t >= start) continue
              const running = edges.filter((e) => e.type === "step:start" && e.time <= t).length -
                edges.filter((e) => e.type === "step:end" && e.time <= t).length
              expect(running, `a slot was free at ${t} ms while an unlimited step waited until ${start} ms`).toBe(concurrency)
            }
          }
        }
      ),
      { numRuns: 60 }
    )
  })
})

describe("rate limits and sub-workflows", () => {
  it("a sub-workflow's limit of the same name is the enclosing run's limiter: the limit holds across both", async () => {
    const times: Array<string> = []
    const call = (name: string) => () => Effect.andThen(Clock.currentTimeMillis, (t) => Effect.sync(() => times.push(`${name}@${t}`)))
    const inner = workflow("inner", { rateLimits: { api: { limit: 1, per: "1 second" } } })
      .step("a", { rateLimit: "api" }, call("inner.a"))
      .step("b", { rateLimit: "api" }, call("inner.b"))
    const outer = workflow("outer", { concurrency: 4, rateLimits: { api: { limit: 1, per: "1 second" } } })
      .step("local", { rateLimit: "api", estimate: "1 minute" }, call("outer"))
      .step("sub", inner)
    const { result } = await runVirtual(outer)
    expect(result.status).toBe("succeeded")
    // One start per second across the two runs: separate limiters would start two at 0.
    expect(times.map((t) => Number(t.split("@")[1])).sort((x, y) => x - y)).toEqual([0, 1000, 2000])
    expect(times[0]).toBe("outer@0")
  })

  it("a sub-workflow's own limit stays its own when the enclosing run has none of that name", async () => {
    const times: Array<number> = []
    const call = () => Effect.andThen(Clock.currentTimeMillis, (t) => Effect.sync(() => times.push(t)))
    const inner = workflow("inner", { concurrency: 2, rateLimits: { api: { limit: 2, per: "1 second" } } })
      .each("c", ids(4), { rateLimit: "api" }, () => call)
    const outer = workflow("outer", { rateLimits: { other: { limit: 1, per: "1 minute" } } }).step("sub", inner)
    const { result } = await runVirtual(outer)
    expect(result.status).toBe("succeeded")
    expect(times).toEqual([0, 0, 1000, 1000])
  })
})

describe("RateLimiter", () => {
  /** When each caller, arriving at `arrivals[i]`, gets through, on `TestClock`. */
  const passTimes = (limit: number, perMs: number, arrivals: ReadonlyArray<number>) =>
    Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const limiter = new RateLimiter("api", limit, perMs)
        const fibers = yield* Effect.forEach(arrivals, (at) =>
          Effect.forkChild(Effect.andThen(Effect.sleep(at), Effect.andThen(limiter.take(() => {}), Clock.currentTimeMillis))))
        yield* TestClock.adjust(10_000_000)
        return yield* Fiber.joinAll(fibers)
      }),
      TestClock.layer()
    ))

  it("lets each caller through at the earliest time the sliding window allows, first come first served", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 30 }),
        async (limit, perMs, arrivals) => {
          const passed = (await passTimes(limit, perMs, arrivals)).slice().sort((a, b) => a - b)
          // The model: in order of arrival, caller i goes at its arrival or once
          // the caller `limit` places before it is `perMs` old, whichever is later.
          const expected: Array<number> = []
          for (const at of arrivals.slice().sort((a, b) => a - b)) {
            const k = expected.length
            expected.push(Math.max(at, k >= limit ? expected[k - limit]! + perMs : -Infinity))
          }
          expect(passed).toEqual(expected)
          expect(busiestWindow(passed, perMs)).toBeLessThanOrEqual(limit)
        }
      ),
      { numRuns: 200 }
    )
  })
})

describe("retryAfter", () => {
  const flaky = (retryAfter: unknown, retry: RetryOption = { times: 1, delay: 100 }) =>
    workflow("flaky").step("call", { retry }, (_, ctx) =>
      ctx.attempt === 1 ? Effect.fail(retryAfter === undefined ? new Error("boom") : new RateLimited(retryAfter)) : Effect.succeed("ok"))

  const retryOf = (events: ReadonlyArray<Event>) => events.find((e): e is EventOf<"step:retry"> => e.type === "step:retry")

  it.each([
    ["milliseconds", 2000, 2000],
    ["seconds, as an HTTP Retry-After header", "3", 3000],
    ["a duration", "2.5 seconds", 2500],
    ["shorter than the backoff: the backoff", 50, 100]
  ])("waits what the error asks for: %s", async (_, retryAfter, waitMs) => {
    const { result, events } = await runVirtual(flaky(retryAfter))
    expect(result.status).toBe("succeeded")
    expect(retryOf(events)?.delayMs).toBe(waitMs)
    expect(startTimes(events, "call")).toEqual([0, waitMs])
  })

  it("waits until an HTTP date", async () => {
    // Virtual time starts at the epoch.
    const { events } = await runVirtual(flaky(new Date(4000).toUTCString()))
    expect(retryOf(events)?.delayMs).toBe(4000)
    expect(startTimes(events, "call")).toEqual([0, 4000])
  })

  it("keeps the backoff when the error has no retryAfter, or one that is not a time", async () => {
    for (const retryAfter of [undefined, "soon", -1]) {
      const { events } = await runVirtual(flaky(retryAfter))
      expect(retryOf(events)?.delayMs).toBe(100)
      expect(startTimes(events, "call")).toEqual([0, 100])
    }
  })

  it("does not wait when no retry is left", async () => {
    const { result, events } = await runVirtual(flaky(60_000, 0))
    expect(result.status).toBe("failed")
    expect(retryOf(events)).toBeUndefined()
    expect(result.durationMs).toBe(0)
  })
})

describe("rate limit options", () => {
  const problemsOf = (wf: Parameters<typeof Plan.make>[0]) => {
    try {
      Plan.make(wf, { file: "flows/summaries.ts" })
    } catch (error) {
      if (isDefinitionError(error)) return error
      throw error
    }
    throw new Error("expected a definition error")
  }

  it("reports a misspelt limiter with a suggestion, naming the file and the step", () => {
    const error = problemsOf(
      workflow("summaries", { rateLimits: { openai: { limit: 3, per: "1 second" } } })
        .each("summarize", ["a"], { rateLimit: "opena" }, () => () => 1)
    )
    expect(error.message).toMatch(/^flows\/summaries\.ts, workflow "summaries" has a problem:/)
    expect(error.problems).toEqual([{ step: "summarize:a", message: expect.stringMatching(/rateLimit "opena", which is not one of the workflow's rateLimits \("openai"\)\. Did you mean "openai"\?/) }])
  })

  it("reports every bad limit at once", () => {
    const error = problemsOf(
      workflow("summaries", {
        rateLimits: {
          zero: { limit: 0, per: "1 second" },
          half: { limit: 1.5, per: 1000 },
          never: { limit: 3, per: 0 },
          typo: { limit: 3, per: "1 sec0nd" as never },
          bare: 3 as never
        }
      }).step("call", { rateLimit: "zero" }, () => 1)
    )
    expect(error.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^rate limit "zero": limit must be a whole number of at least 1 .*not 0/),
      expect.stringMatching(/^rate limit "half": limit must be a whole number of at least 1 .*not 1\.5/),
      expect.stringMatching(/^rate limit "never": per must be a positive duration .*not 0/),
      expect.stringMatching(/^rate limit "typo": per must be a positive duration .*not "1 sec0nd"/),
      expect.stringMatching(/^rate limit "bare" must be \{ limit, per \}/)
    ])
  })

  it("says how to declare a limiter when the workflow has none, and rejects a non-string name", () => {
    const error = problemsOf(
      workflow("summaries")
        .step("a", { rateLimit: "openai" }, () => 1)
        .step("b", { rateLimit: 3 as never }, () => 1)
    )
    expect(error.problems).toEqual([
      { step: "a", message: expect.stringContaining(`the workflow has no rateLimits: declare it, like workflow("…", { rateLimits: { "openai": { limit: 3, per: "1 second" } } })`) },
      { step: "b", message: expect.stringMatching(/^rateLimit must name one of the workflow's rateLimits/) }
    ])
  })

  it("rejects rateLimits that are not named limits, and suggests the option's name", () => {
    expect(problemsOf(workflow("w", { rateLimits: [] as never }).step("a", () => 1)).problems.map((p) => p.message))
      .toEqual([expect.stringMatching(/^rateLimits must name each limit/)])
    expect(problemsOf(workflow("w", { rateLimit: {} } as never).step("a", () => 1)).problems.map((p) => p.message))
      .toEqual([expect.stringMatching(/unknown workflow option "rateLimit"\. Did you mean "rateLimits"\?/)])
  })
})
