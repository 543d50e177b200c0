import { describe, expect, it } from "vitest"
import { SelfWrites } from "./selfWrites.ts"

/** A step that ran from 100 to 200; `mtimes` are the files' modification times. */
const ranOnce = (mtimes: Record<string, number | undefined>) => {
  const tracker = new SelfWrites((file) => mtimes[file])
  tracker.started("s", 100)
  tracker.ended("s", 200)
  return tracker
}

describe("SelfWrites", () => {
  it("a change made while the step was idle reruns it, always", () => {
    const tracker = ranOnce({ "a.txt": 250 })
    for (let i = 0; i < 3; i++) expect(tracker.decide("s", [{ path: "a.txt", time: 260 }])).toEqual({ decision: "now" })
  })

  it("counts by mtime: inside the run (or a clock tick before its start), never after its end", () => {
    const tracker = new SelfWrites((file) => ({ early: 85, late: 401, inside: 395 })[file])
    tracker.started("s", 100)
    tracker.ended("s", 200)
    expect(tracker.decide("s", [{ path: "early", time: 0 }]).decision).toBe("now") // counted: 1
    tracker.started("s", 300)
    tracker.ended("s", 400)
    expect(tracker.decide("s", [{ path: "late", time: 0 }]).decision).toBe("now") // after the end: not counted
    expect(tracker.decide("s", [{ path: "inside", time: 0 }])).toEqual({ decision: "ignore", warn: ["inside"] }) // counted: 2
  })

  it("the first change while it runs reruns it; the second, in the next run, waits for that run; the third is its own writing, warned once", () => {
    const tracker = new SelfWrites(() => undefined)
    tracker.started("s", 0)
    expect(tracker.decide("s", [{ path: "f", time: 5 }])).toEqual({ decision: "now" })
    tracker.ended("s", 10)
    tracker.started("s", 20)
    expect(tracker.decide("s", [{ path: "f", time: 25 }])).toEqual({ decision: "after" })
    tracker.ended("s", 30)
    tracker.started("s", 40)
    expect(tracker.decide("s", [{ path: "f", time: 45 }])).toEqual({ decision: "ignore", warn: ["f"] })
    expect(tracker.decide("s", [{ path: "f", time: 46 }])).toEqual({ decision: "ignore" })
    tracker.ended("s", 50)
    // A clean run resets the count.
    tracker.started("s", 60)
    tracker.ended("s", 70)
    tracker.started("s", 80)
    expect(tracker.decide("s", [{ path: "f", time: 85 }])).toEqual({ decision: "now" })
  })

  it("a deleted file counts by when its event arrived, with room for chokidar holding an unlink back", () => {
    const tracker = ranOnce({})
    tracker.decide("s", [{ path: "gone", time: 420 }])
    tracker.started("s", 500)
    tracker.ended("s", 600)
    expect(tracker.decide("s", [{ path: "gone", time: 900 }]).decision).toBe("now")
    expect(tracker.decide("s", [{ path: "gone", time: 800 }]).decision).toBe("ignore")
  })

  it("forgets a step that was removed or redefined", () => {
    const tracker = new SelfWrites(() => undefined)
    tracker.started("s", 0)
    tracker.decide("s", [{ path: "f", time: 1 }])
    tracker.forget("s")
    expect(tracker.running("s")).toBe(false)
    expect(tracker.decide("s", [{ path: "f", time: 2 }]).decision).toBe("now")
  })
})
