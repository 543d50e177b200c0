import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { RateWindow } from "./RateWindow.ts"

describe("RateWindow", () => {
  it("lets `limit` starts through at once, then each as the start `limit` places before it leaves the window", () => {
    const window = new RateWindow(2, 1000)
    window.record(0)
    expect(window.waitAt(0)).toBe(0)
    window.record(100)
    expect(window.waitAt(300)).toBe(700)
    expect(window.waitAt(1000)).toBe(0)
    window.record(1000)
    expect(window.waitAt(1000)).toBe(100)
  })

  it("property: starting each arrival as soon as `waitAt` allows gives the earliest times the sliding window permits", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 30 }),
        (limit, perMs, arrivals) => {
          const window = new RateWindow(limit, perMs)
          const passed: Array<number> = []
          for (const at of arrivals.slice().sort((a, b) => a - b)) {
            // Starts go in arrival order: none before the one ahead of it.
            const from = Math.max(at, passed.at(-1) ?? -Infinity)
            const start = from + window.waitAt(from)
            window.record(start)
            passed.push(start)
          }
          // The model: start k goes at its arrival or once start k - limit is perMs old.
          const expected: Array<number> = []
          for (const at of arrivals.slice().sort((a, b) => a - b)) {
            const k = expected.length
            expected.push(Math.max(at, k >= limit ? expected[k - limit]! + perMs : -Infinity))
          }
          expect(passed).toEqual(expected)
        }
      ),
      { numRuns: 300 }
    )
  })
})
