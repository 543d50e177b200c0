import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { depsOf, limitOf, workflowModel, type WorkflowModel } from "../properties/arbitraries.ts"
import { referenceSchedule } from "../properties/referenceSchedule.ts"
import { eta, formatEta, makeEtaGraph, type EtaProgress } from "./eta.ts"

const fresh = (n: number): EtaProgress => ({ ended: new Array(n).fill(false), running: [] })

describe("eta: the simulated remaining schedule", () => {
  it("a chain takes the sum of its steps", () => {
    const graph = makeEtaGraph([[], [0], [1]], [10, 20, 30])
    expect(eta(graph, fresh(3), 4).ms).toBe(60)
  })

  it("parallel branches overlap: the makespan, not the sum of estimates", () => {
    // root 10, then three 30 ms branches side by side, then a 5 ms join: 10 + 30 + 5.
    const graph = makeEtaGraph([[], [0], [0], [0], [1, 2, 3]], [10, 30, 30, 30, 5])
    const e = eta(graph, fresh(5), 4)
    expect(e.ms).toBe(45)
    expect(e.ms).not.toBe(10 + 30 + 30 + 30 + 5)
  })

  it("the slot limit queues branches: two slots run three 30 ms branches in 60 ms", () => {
    const graph = makeEtaGraph([[], [0], [0], [0], [1, 2, 3]], [10, 30, 30, 30, 5])
    expect(eta(graph, fresh(5), 2).ms).toBe(10 + 30 + 30 + 5)
  })

  it("starts the step with the longest path to the end first, as the engine does", () => {
    // Two slots; roots a, b, c (10 each, declared in that order) and d (30)
    // after c. By rank c (40) starts at once beside a, and d follows it at 10:
    // 40. In declaration order a and b would go first, c at 10, d at 20: 50.
    const graph = makeEtaGraph([[], [], [], [2]], [10, 10, 10, 30])
    expect(Array.from(graph.rank)).toEqual([10, 10, 40, 30])
    expect(eta(graph, fresh(4), 2).ms).toBe(40)
  })

  it("a running step ends after the rest of its estimate, and holds its slot meanwhile", () => {
    const graph = makeEtaGraph([[], [0], []], [500, 100, 100])
    // `a` has run 200 of 500 ms; with one slot `c` waits for it: 300, then b and c.
    const progress: EtaProgress = { ended: [false, false, false], running: [{ step: 0, elapsedMs: 200 }] }
    expect(eta(graph, progress, 1).ms).toBe(300 + 100 + 100)
    // With two, `c` runs beside `a`.
    expect(eta(graph, progress, 2).ms).toBe(300 + 100)
  })

  it("a step past its estimate is given a small floor, not a negative time", () => {
    const graph = makeEtaGraph([[], [0]], [50, 10])
    const progress: EtaProgress = { ended: [false, false], running: [{ step: 0, elapsedMs: 80 }] }
    expect(eta(graph, progress, 1, 100).ms).toBe(100 + 10)
  })

  it("ended steps count for nothing, and free their dependents", () => {
    const graph = makeEtaGraph([[], [0], [0]], [1000, 20, 30])
    const e = eta(graph, { ended: [true, false, false], running: [] }, 4)
    expect(e).toEqual({ ms: 30, left: 2, unknown: 0 })
  })

  it("steps without an estimate are counted as unknown and simulated as instant", () => {
    const graph = makeEtaGraph([[], [0], [0]], [10, undefined, 30])
    expect(eta(graph, fresh(3), 4)).toEqual({ ms: 40, left: 3, unknown: 1 })
  })
})

describe("formatEta: honest about what it does not know", () => {
  it("shows ~X when every step left is estimated, ~X+ when a few are not, nothing when most are not", () => {
    expect(formatEta({ ms: 12_000, left: 4, unknown: 0 })).toBe("ETA ~12s")
    expect(formatEta({ ms: 12_000, left: 4, unknown: 1 })).toBe("ETA ~12s+")
    expect(formatEta({ ms: 12_000, left: 4, unknown: 3 })).toBeUndefined()
    expect(formatEta({ ms: 0, left: 0, unknown: 0 })).toBeUndefined()
  })
})

/** The model's graph with each step's duration as its estimate. */
const graphOf = (model: WorkflowModel) => makeEtaGraph(model.steps.map(depsOf), model.steps.map((s) => s.duration))

describe("eta agrees with the engine's schedule (property)", () => {
  const models = workflowModel({ failures: false, optional: false, maxSteps: 10 })

  it("a fresh run with exact estimates: the ETA is the reference schedule's makespan", () => {
    fc.assert(fc.property(models, (model) => {
      expect(eta(graphOf(model), fresh(model.steps.length), limitOf(model)).ms).toBe(referenceSchedule(model).makespan)
    }), { numRuns: 300 })
  })

  it("mid-run, with running steps part done: the ETA is the makespan minus the time so far", () => {
    fc.assert(fc.property(models, fc.nat(), (model, pick) => {
      const schedule = referenceSchedule(model)
      // Just after one of the starts: no event shares this instant.
      const t = schedule.starts[pick % schedule.starts.length]!.time + 0.5
      const endOf = new Map(schedule.ends.map((e) => [e.step, e.time]))
      const ended = model.steps.map((_, i) => endOf.get(i)! < t)
      const running = schedule.starts
        .filter((s) => s.time < t && endOf.get(s.step)! > t)
        .map((s) => ({ step: s.step, elapsedMs: t - s.time }))
      expect(eta(graphOf(model), { ended, running }, limitOf(model), 0).ms).toBe(schedule.makespan - t)
    }), { numRuns: 300 })
  })
})
