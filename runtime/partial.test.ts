/**
 * Streaming step results: `ctx.emit`, async generators and Effect Streams
 * become `step:partial` events as each part arrives; interruption stops the
 * iteration; a cache hit replays the parts.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { describe, expect, expectTypeOf, it } from "vitest"
import { workflow, type Workflow } from "../dsl/Workflow.ts"
import type { Event, EventOf } from "./Event.ts"
import { run, type RunOptions } from "./Run.ts"

const runTraced = async (wf: Workflow<any>, options: RunOptions = {}) => {
  const events: Array<Event> = []
  const result = await run(wf, { ...options, onEvent: (e) => events.push(e) })
  return { result, events }
}

const partials = (events: ReadonlyArray<Event>, step?: string) =>
  events.filter((e): e is EventOf<"step:partial"> => e.type === "step:partial" && (step === undefined || e.step === step))

/** A promise and the function that settles it, to hold a generator until the test has seen something. */
const gate = () => {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { opened, open }
}

/** Resolves when `promise` does, or rejects after `ms` saying what never happened (rather than hanging the test). */
const inTime = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)))
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

const wait = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener("abort", () => {
      clearTimeout(timer)
      reject(signal.reason)
    }, { once: true })
  })

describe("streaming results: ctx.emit", () => {
  it("emits each part as a step:partial between the step's start and end, indexed from 0; the output is the return value", async () => {
    const wf = workflow("emit").step("report", async (_, ctx) => {
      ctx.emit("## Intro\nfirst paragraph")
      await wait(1)
      ctx.emit({ section: 2, words: ["a", "b"] })
      ctx.emit(42)
      return "the whole report"
    })
    const { result, events } = await runTraced(wf)
    expect(result.outputs.report).toBe("the whole report")
    expect(partials(events).map((e) => [e.index, e.text])).toEqual([
      [0, "## Intro\nfirst paragraph"],
      [1, "{ section: 2, words: [ 'a', 'b' ] }"],
      [2, "42"]
    ])
    const types = events.filter((e) => "step" in e && e.step === "report").map((e) => e.type)
    expect(types).toEqual(["step:ready", "step:start", "step:partial", "step:partial", "step:partial", "step:end"])
    expect(partials(events).every((e) => e.replayed === undefined)).toBe(true)
  })

  it("cuts a huge part's text for the event, never the output", async () => {
    const huge = "x".repeat(200_000)
    const wf = workflow("huge").step("big", (_, ctx) => {
      ctx.emit(huge)
      return huge
    })
    const { result, events } = await runTraced(wf)
    expect(result.outputs.big).toBe(huge)
    const [part] = partials(events)
    expect(part!.text.length).toBeLessThan(70_000)
    expect(part!.text).toMatch(/^x+… \(\d+ more characters\)$/)
  })

  it("restarts the indexes on each attempt", async () => {
    const wf = workflow("retry").step("flaky", { retry: { times: 1, delay: 0 } }, (_, ctx) => {
      ctx.emit(`attempt ${ctx.attempt} part a`)
      ctx.emit(`attempt ${ctx.attempt} part b`)
      if (ctx.attempt === 1) throw new Error("first attempt fails")
      ctx.emit(`attempt ${ctx.attempt} part c`)
      return ctx.attempt
    })
    const { result, events } = await runTraced(wf)
    expect(result.outputs.flaky).toBe(2)
    expect(partials(events).map((e) => `${e.index}: ${e.text}`)).toEqual([
      "0: attempt 1 part a",
      "1: attempt 1 part b",
      "0: attempt 2 part a",
      "1: attempt 2 part b",
      "2: attempt 2 part c"
    ])
  })
})

describe("streaming results: async iterables and Effect Streams", () => {
  it("an async generator's items arrive one by one while it runs; the output is their array", async () => {
    const later = gate()
    const wf = workflow("gen")
      .step("sections", async function*() {
        yield "one"
        // Held until the test has seen "one": the part cannot have waited for the end.
        await inTime(later.opened, 2000, `"one" was not shown while the generator ran`)
        yield "two"
        yield { three: 3 }
      })
      .step("count", { needs: ["sections"] }, ({ sections }) => {
        expectTypeOf(sections).toEqualTypeOf<Array<"one" | "two" | { three: number }>>()
        return sections.length
      })
    const events: Array<Event> = []
    const result = await run(wf, {
      onEvent: (e) => {
        events.push(e)
        if (e.type === "step:partial" && e.text === "one") later.open()
      }
    })
    expect(result.status).toBe("succeeded")
    expect(result.outputs.sections).toEqual(["one", "two", { three: 3 }])
    expect(result.outputs.count).toBe(3)
    expect(partials(events).map((e) => [e.index, e.text])).toEqual([[0, "one"], [1, "two"], [2, "{ three: 3 }"]])
  })

  it("streams an iterable a promise or an Effect resolves to, sharing indexes with ctx.emit, with the step's console", async () => {
    const wf = workflow("nested")
      .step("later", async (_, ctx) => {
        await wait(1)
        ctx.emit("header")
        return (async function*() {
          await wait(1)
          console.log("inside the generator")
          yield 1
          yield 2
        })()
      })
      .step("eff", () => Effect.succeed(Stream.make("a", "b")))
      .step("typed", { needs: ["later", "eff"] }, ({ later, eff }) => {
        expectTypeOf(later).toEqualTypeOf<Array<1 | 2>>()
        expectTypeOf(eff).toEqualTypeOf<Array<"a" | "b">>()
        return [...later, ...eff].join(",")
      })
    const { result, events } = await runTraced(wf)
    expect(result.outputs.typed).toBe("1,2,a,b")
    expect(partials(events, "later").map((e) => [e.index, e.text])).toEqual([[0, "header"], [1, "1"], [2, "2"]])
    expect(events).toContainEqual(expect.objectContaining({ type: "step:log", step: "later", stream: "stdout", text: "inside the generator" }))
  })

  it("an Effect Stream's items are parts; its failure fails the step", async () => {
    const wf = workflow("streams")
      .step("numbers", () => Stream.make(1, 2, 3).pipe(Stream.map((n) => n * 10)))
      .step("broken", () => Stream.concat(Stream.make("ok"), Stream.fail(new Error("source went away"))))
      .step("sum", { needs: ["numbers"] }, ({ numbers }) => {
        expectTypeOf(numbers).toEqualTypeOf<Array<number>>()
        return numbers.reduce((a, b) => a + b, 0)
      })
    const { result, events } = await runTraced(wf, { failFast: false })
    expect(result.outputs.numbers).toEqual([10, 20, 30])
    expect(result.outputs.sum).toBe(60)
    expect(partials(events, "numbers").map((e) => e.text)).toEqual(["10", "20", "30"])
    expect(result.steps.broken).toMatchObject({ status: "failed", error: "source went away" })
    expect(partials(events, "broken").map((e) => e.text)).toEqual(["ok"])
  })

  it("a generator's error fails the step with it, after the parts it yielded", async () => {
    const wf = workflow("throws").step("half", async function*() {
      yield "first half"
      throw new Error("the model stopped answering")
    })
    const { result, events } = await runTraced(wf)
    expect(result.steps.half).toMatchObject({ status: "failed", error: "the model stopped answering" })
    expect(partials(events).map((e) => e.text)).toEqual(["first half"])
  })
})

describe("streaming results: interruption stops the iteration", () => {
  it("a timeout closes the generator: its finally runs, nothing more is yielded", async () => {
    const closed = gate()
    let after = 0
    const wf = workflow("timeout").step("slow", { timeout: 50 }, async function*(_, ctx) {
      try {
        yield "started"
        await wait(10_000, ctx.signal)
        after++
        yield "never"
      } finally {
        closed.open()
      }
    })
    const { result, events } = await runTraced(wf)
    expect(result.steps.slow).toMatchObject({ status: "failed", error: "timed out after 50 ms" })
    await inTime(closed.opened, 2000, "the generator's finally did not run")
    expect(after).toBe(0)
    expect(partials(events).map((e) => e.text)).toEqual(["started"])
  })

  it("a generator that ignores the signal still stops at its next yield when the run is cancelled", async () => {
    const closed = gate()
    const controller = new AbortController()
    let resumed = 0
    const wf = workflow("cancel").step("stubborn", async function*() {
      try {
        for (let i = 0; ; i++) {
          if (i === 1) controller.abort()
          // Ignores every signal: only closing the iterator can stop it.
          await wait(20)
          yield i
          resumed++
        }
      } finally {
        closed.open()
      }
    })
    const { result, events } = await runTraced(wf, { signal: controller.signal })
    expect(result.status).toBe("cancelled")
    expect(result.steps.stubborn!.status).toBe("cancelled")
    await inTime(closed.opened, 2000, "the generator's finally did not run")
    const shown = partials(events).length
    // The loop never went on past the yield that was pending when the run was cancelled.
    await wait(60)
    expect(resumed).toBeLessThanOrEqual(shown)
    expect(resumed).toBeLessThan(3)
  })

  it("fail-fast interrupts a streaming Effect Stream: its finalizer runs", async () => {
    let finalized = false
    const wf = workflow("failfast")
      .step("endless", () =>
        Stream.fromEffectRepeat(Effect.as(Effect.sleep(5), "tick")).pipe(Stream.ensuring(Effect.sync(() => (finalized = true)))))
      .step("boom", async () => {
        await wait(30)
        throw new Error("boom")
      })
    const { result } = await runTraced(wf)
    expect(result.status).toBe("failed")
    expect(result.steps.endless!.status).toBe("cancelled")
    expect(finalized).toBe(true)
  })
})

describe("streaming results: the cache", () => {
  it("a hit replays the parts, marked replayed, interleaved with the logs as they ran", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weft-partial-"))
    let calls = 0
    const wf = workflow("cached").step("report", { cache: true }, async function*(_, ctx) {
      calls++
      ctx.log("writing the intro")
      yield "# Intro"
      ctx.log("writing the body")
      yield "## Body"
      yield "## End"
      ctx.log("done")
    })
    const first = await runTraced(wf, { cwd: root })
    const second = await runTraced(wf, { cwd: root })
    expect(calls).toBe(1)
    expect(second.result.steps.report!.status).toBe("cached")
    expect(second.result.outputs.report).toEqual(["# Intro", "## Body", "## End"])
    const shown = (events: ReadonlyArray<Event>) =>
      events.flatMap((e) => (e.type === "step:log" ? [`log ${e.text}`] : e.type === "step:partial" ? [`part ${e.index} ${e.text}`] : []))
    expect(shown(second.events)).toEqual(shown(first.events))
    expect(shown(second.events)).toEqual(["log writing the intro", "part 0 # Intro", "log writing the body", "part 1 ## Body", "part 2 ## End", "log done"])
    expect(partials(second.events).every((e) => e.replayed === true)).toBe(true)
  })

  it("keeps only the parts of the attempt that succeeded", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weft-partial-"))
    const wf = workflow("cached-retry").step("flaky", { cache: true, retry: { times: 1, delay: 0 } }, (_, ctx) => {
      ctx.emit(`attempt ${ctx.attempt}`)
      if (ctx.attempt === 1) throw new Error("first attempt fails")
      return "ok"
    })
    await runTraced(wf, { cwd: root })
    const { result, events } = await runTraced(wf, { cwd: root })
    expect(result.steps.flaky!.status).toBe("cached")
    expect(partials(events).map((e) => [e.index, e.text])).toEqual([[0, "attempt 2"]])
  })
})
