/**
 * Alerts on virtual time: a step far past what it should take, a run far
 * past its ETA, and memoized calls that seldom answer, each a `run:warning`
 * before `run:end`; and the `alerts` option checked with the others.
 */
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { memo } from "./memo.ts"
import { workflow } from "../dsl/Workflow.ts"
import { runVirtual } from "../test/fixtures/virtual.ts"
import type { Event } from "./Event.ts"
import * as Plan from "./Plan.ts"
import { messageOf } from "../test/fixtures/definitionError.ts"
import { Model } from "../tui/model.ts"
import { tee } from "./Reporter.ts"
import { json } from "./reporters/json.ts"
import { plain } from "./reporters/plain.ts"

const warnings = (events: ReadonlyArray<Event>) => events.flatMap((e) => (e.type === "run:warning" ? [e.step === undefined ? { time: e.time, message: e.message } : { time: e.time, message: e.message, step: e.step }] : []))
const sleep = (ms: number) => () => Effect.sleep(ms)

describe("alerts: a step far past its expected duration", () => {
  it("warns once when a step runs twice its expected time (history supersedes the estimate), while it still runs", async () => {
    const wf = workflow("w", { concurrency: 2, alerts: { runOverrun: false } })
      .step("slow", { estimate: "10 seconds" }, sleep(50_000))
      .step("fine", { estimate: "10 seconds" }, sleep(15_000))
      .step("known", { estimate: "1 second" }, sleep(40_000))
    const { events } = await runVirtual(wf, { durations: new Map([["known", 15_000]]) })
    const w = warnings(events)
    expect(w.map((x) => [x.time, x.step])).toEqual([[20_000, "slow"], [30_000, "known"]])
    expect(w[0]!.message).toBe("slow is still running after 20.0 s, 2× the 10.0 s it should take")
    // Before its end, so a reader sees it while it matters.
    expect(events.findIndex((e) => e.type === "run:warning")).toBeLessThan(events.findIndex((e) => e.type === "step:end" && e.step === "slow"))
  })

  it("waits at least 5 s past the expected time: a short step's jitter is not news, a hung one is", async () => {
    const jitter = await runVirtual(workflow("w").step("quick", { estimate: 100 }, sleep(3000)))
    expect(warnings(jitter.events)).toEqual([])
    const hung = await runVirtual(workflow("w", { alerts: { runOverrun: false } }).step("quick", { estimate: 100 }, sleep(60_000)))
    expect(warnings(hung.events)).toEqual([{ time: 5100, step: "quick", message: "quick is still running after 5.10 s, 51× the 100 ms it should take" }])
  })

  it("times each attempt once it may start: waiting for a rate limit is not running long", async () => {
    // One start per 20 s: the third step waits 40 s for its turn, then runs its 100 ms.
    const steps = workflow("w", { concurrency: 3, rateLimits: { api: { limit: 1, per: "20 seconds" } }, alerts: { runOverrun: false } })
      .step("a", { rateLimit: "api", estimate: 100 }, sleep(100))
      .step("b", { rateLimit: "api", estimate: 100 }, sleep(100))
      .step("c", { rateLimit: "api", estimate: 100 }, sleep(100))
    const { events } = await runVirtual(steps)
    expect(events.filter((e) => e.type === "step:start").map((e) => e.time)).toEqual([0, 20_000, 40_000])
    expect(warnings(events)).toEqual([])
  })

  it("takes its factor from the workflow's alerts, and false turns it off", async () => {
    const three = await runVirtual(workflow("w", { alerts: { stepOverrun: 3, runOverrun: false } }).step("slow", { estimate: 10_000 }, sleep(25_000)))
    expect(warnings(three.events)).toEqual([])
    const off = await runVirtual(workflow("w", { alerts: { stepOverrun: false, runOverrun: false } }).step("slow", { estimate: 1000 }, sleep(60_000)))
    expect(warnings(off.events)).toEqual([])
  })
})

describe("alerts: a run far past its expected duration", () => {
  it("warns when the run takes twice the ETA it started with", async () => {
    // Expected: a and b side by side (10 s), then c (10 s): 20 s. It takes 45 s.
    const wf = workflow("w", { concurrency: 2, alerts: { stepOverrun: false } })
      .step("a", { estimate: 10_000 }, sleep(10_000))
      .step("b", { estimate: 10_000 }, sleep(10_000))
      .step("c", { needs: ["a", "b"], estimate: 10_000 }, sleep(35_000))
    const { events } = await runVirtual(wf)
    expect(warnings(events)).toEqual([{ time: 40_000, message: "the run is still going after 40.0 s, 2× the 20.0 s it should take" }])
  })

  it("says nothing when some step has no expected duration", async () => {
    const wf = workflow("w").step("a", { estimate: 10 }, sleep(1000)).step("b", sleep(1000))
    const { events } = await runVirtual(wf, { concurrency: 1 })
    expect(warnings(events).filter((w) => w.step === undefined)).toEqual([])
  })
})

describe("alerts: a memoized function that seldom answers", () => {
  it("warns before run:end when its hit rate is under memoHitRate, given enough calls", async () => {
    const lookup = memo("lookup", async (n: number) => n * 2)
    const wf = workflow("w", { alerts: { memoHitRate: 0.5 } }).step("calls", async () => {
      for (let i = 0; i < 30; i++) await lookup(i < 25 ? i : 0)
    })
    const { events } = await runVirtual(wf, { cache: { mode: "off" } })
    const w = warnings(events)
    expect(w.map((x) => x.message)).toEqual(["memo lookup answered 5 of 30 calls (17%), under the 50% alert (alerts.memoHitRate): are its keys stable?"])
    expect(events.at(-1)!.type).toBe("run:end")
  })

  it("is off by default: a first run's memo always misses", async () => {
    const lookup = memo("lookup", async (n: number) => n * 2)
    const wf = workflow("w").step("calls", async () => {
      for (let i = 0; i < 30; i++) await lookup(i)
    })
    expect(warnings((await runVirtual(wf, { cache: { mode: "off" } })).events)).toEqual([])
  })
})

describe("alerts: the option", () => {
  it("is checked with the workflow's other options: every problem at once, with what to write", () => {
    const wf = workflow("w", { alerts: { stepOverrun: 0.5, runOverrun: "2", memoHitRate: 2, stepOvertime: 2 } as never }).step("a", () => 1)
    const text = messageOf(() => Plan.make(wf))
    expect(text).toContain("alerts.stepOverrun must be a number above 1 (how many times the expected duration), or false, not 0.5")
    expect(text).toContain(`alerts.runOverrun must be a number above 1 (how many times the expected duration), or false, not "2"`)
    expect(text).toContain("alerts.memoHitRate must be a share between 0 and 1, like 0.5, or false, not 2")
    expect(text).toContain(`unknown alert "stepOvertime". Did you mean "stepOverrun"?`)
  })
})

describe("alerts: every reporter shows them", () => {
  it("plain prints the warning, JSON has the event, the dashboard holds it", async () => {
    let plainText = ""
    let jsonText = ""
    const model = new Model({ now: () => 0 })
    const reporter = tee(plain({ write: (t) => void (plainText += t) }), json({ write: (t) => void (jsonText += t) }), { onEvent: (e) => model.apply(e) })
    await runVirtual(workflow("w", { alerts: { runOverrun: false } }).step("slow", { estimate: "10 seconds" }, sleep(30_000)), { reporter })
    const message = "slow is still running after 20.0 s, 2× the 10.0 s it should take"
    expect(plainText).toContain(`weft: warning: ${message}\n`)
    expect(jsonText.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))).toContainEqual({ type: "run:warning", time: 20_000, message, step: "slow" })
    expect(model.warnings).toEqual([message])
  })
})
