import { describe, expect, it } from "vitest"
import type { Event } from "../Event.ts"
import { Forecast, formatEta } from "./index.ts"

const ended = (step: string, from: number, to: number): Array<Event> => [
  { type: "step:start", time: from, step, attempt: 1 },
  { type: "step:end", time: to, step, status: "succeeded", durationMs: to - from, attempts: 1 }
]

describe("the forecast on a first run: no history, no estimates", () => {
  it("has no ETA until a step has run, then takes the typical duration of the steps that ran for the rest", () => {
    const forecast = new Forecast(0)
    forecast.begin({ type: "run:start", time: 0, run: "r", workflow: "w", concurrency: 1, steps: ["a", "b", "c", "d"].map((id) => ({ id, deps: [] })) })
    forecast.apply({ type: "step:start", time: 0, step: "a", attempt: 1 })
    expect(formatEta(forecast.eta(0)!)).toBeUndefined()
    for (const e of ended("a", 0, 1000)) forecast.apply(e)
    // b, c and d one after another, a second each.
    expect(forecast.eta(1000)).toEqual({ ms: 3000, left: 3, unknown: 0 })
    expect(formatEta(forecast.eta(1000)!)).toBe("ETA ~3.0s")
    for (const e of ended("b", 1000, 4000)) forecast.apply(e)
    // The median of 1 s and 3 s: 2 s each for c and d.
    expect(forecast.eta(4000)!.ms).toBe(4000)
  })

  it("a cache answer says nothing of how long the work takes", () => {
    const forecast = new Forecast()
    forecast.begin({ type: "run:start", time: 0, run: "r", workflow: "w", concurrency: 1, steps: ["a", "b"].map((id) => ({ id, deps: [] })) })
    forecast.apply({ type: "step:end", time: 0, step: "a", status: "cached", durationMs: 0, attempts: 0, savedMs: 500 })
    expect(forecast.eta(0)).toMatchObject({ left: 1, unknown: 1 })
  })
})
