import { describe, expect, it } from "vitest"
import { planResources } from "./Resources.ts"
import { makeScheduler, nextToStart, type Scheduler } from "./Scheduler.ts"

/** A scheduler with steps `ready` ready, in that order. */
const withReady = (scheduler: Scheduler, ready: ReadonlyArray<number>): Scheduler => {
  for (const step of ready) scheduler.ready(step)
  return scheduler
}

describe("makeScheduler", () => {
  it("starts the ready steps with the longest path to the end first, ties by declaration order, while slots are free", () => {
    // Ranks: 1 and 3 share the best rank; 0 and 2 come after, 0 first.
    const scheduler = withReady(makeScheduler({ rank: [5, 9, 5, 9, 1], slots: 3 }), [4, 2, 3, 0, 1])
    expect(scheduler.take()).toEqual({ resumes: [], starts: [1, 3, 0] })
    expect(scheduler).toMatchObject({ running: 3, size: 2 })
    // No slot free: nothing, however often it is asked.
    expect(scheduler.take().starts).toEqual([])
    scheduler.release(3)
    expect(scheduler.take().starts).toEqual([2])
    scheduler.release(1)
    scheduler.release(0)
    expect(scheduler.take().starts).toEqual([4])
    expect(scheduler).toMatchObject({ running: 2, size: 0 })
  })

  it("a step becoming ready later goes ahead of lower-ranked steps that waited longer", () => {
    const scheduler = withReady(makeScheduler({ rank: [1, 1, 8], slots: 1 }), [0, 1])
    expect(scheduler.take().starts).toEqual([0])
    scheduler.ready(2)
    scheduler.release(0)
    expect(scheduler.take().starts).toEqual([2])
  })

  it("a step starts only if its whole demand fits, and the best blocked step reserves it: smaller ones do not starve it", () => {
    // db: 2. `small` (0) holds 1; `big` (1, ranked above the rest) needs 2
    // and waits; `tiny` (2, 3) need 1 each and would fit in the free one.
    const resources = planResources([{ resources: { db: 1 } }, { resources: { db: 2 } }, { resources: { db: 1 } }, { resources: { db: 1 } }, {}], { db: 2 })!
    const scheduler = makeScheduler({ rank: [10, 9, 5, 4, 1], slots: 8, resources })
    scheduler.ready(0)
    expect(scheduler.take().starts).toEqual([0])
    withReady(scheduler, [1, 2, 3, 4])
    // The reservation keeps 2 and 3 out; 4 takes no db and starts.
    expect(scheduler.take().starts).toEqual([4])
    expect(scheduler.take().starts).toEqual([])
    scheduler.release(0)
    // The big step goes first, the small ones wait for it to end.
    expect(scheduler.take().starts).toEqual([1])
    scheduler.release(1)
    expect(scheduler.take().starts).toEqual([2, 3])
  })

  it("a step given its slot back keeps its demand; when it asks again it is served before any new start, first come first served", () => {
    const resources = planResources([{ resources: { db: 1 } }, {}, {}, {}], { db: 1 })!
    const scheduler = withReady(makeScheduler({ rank: [9, 8, 7, 6], slots: 2, resources }), [0, 1])
    expect(scheduler.take().starts).toEqual([0, 1])
    expect(scheduler.park(0)).toBe(true)
    expect(scheduler.park(0)).toBe(false)
    expect(scheduler).toMatchObject({ running: 1, parked: 1 })
    // The freed slot goes to a new start; the parked step still holds db.
    withReady(scheduler, [2, 3])
    expect(scheduler.take().starts).toEqual([2])
    expect(scheduler.park(1)).toBe(true)
    expect(scheduler.unpark(1)).toBe(true)
    expect(scheduler.unpark(0)).toBe(true)
    expect(scheduler.unpark(0)).toBe(false)
    // One slot free: the first to ask gets it, though step 3 is ready.
    expect(scheduler.take()).toEqual({ resumes: [1], starts: [] })
    scheduler.release(2)
    expect(scheduler.take()).toEqual({ resumes: [0], starts: [] })
    scheduler.release(1)
    expect(scheduler.take()).toEqual({ resumes: [], starts: [3] })
    expect(scheduler).toMatchObject({ running: 2, parked: 0 })
  })

  it("takeEach hands over what take decides, resumes first, each in take's order, holding the same", () => {
    const make = () => {
      const scheduler = withReady(makeScheduler({ rank: [9, 8, 7, 6, 5], slots: 4 }), [0, 1, 2])
      scheduler.take()
      for (const step of [1, 0]) scheduler.park(step)
      for (const step of [0, 1]) scheduler.unpark(step)
      return withReady(scheduler, [4, 3])
    }
    const taking = make()
    const each = make()
    const handed: Array<string> = []
    each.takeEach((step) => handed.push(`resume ${step}`), (step) => handed.push(`start ${step}`))
    const { resumes, starts } = taking.take()
    expect(handed).toEqual([...resumes.map((step) => `resume ${step}`), ...starts.map((step) => `start ${step}`)])
    expect(handed).toEqual(["resume 0", "resume 1", "start 3"])
    each.release(2)
    taking.release(2)
    each.takeEach((step) => handed.push(`resume ${step}`), (step) => handed.push(`start ${step}`))
    expect(handed.slice(3)).toEqual(taking.take().starts.map((step) => `start ${step}`))
    expect(handed.slice(3)).toEqual(["start 4"])
    for (const scheduler of [each, taking]) expect(scheduler).toMatchObject({ running: 4, parked: 0, size: 0 })
  })

  it("a step that ends while asking for its slot back gives everything back and is not resumed", () => {
    const resources = planResources([{ resources: { db: 1 } }, { resources: { db: 1 } }], { db: 1 })!
    const scheduler = withReady(makeScheduler({ rank: [2, 1], slots: 1, resources }), [0])
    scheduler.take()
    scheduler.park(0)
    scheduler.unpark(0)
    scheduler.release(0)
    scheduler.ready(1)
    expect(scheduler.take()).toEqual({ resumes: [], starts: [1] })
    expect(scheduler).toMatchObject({ running: 1, parked: 0 })
  })

  it("drain withdraws every ready step and nothing starts or resumes after it", () => {
    const scheduler = withReady(makeScheduler({ rank: [3, 2, 1, 0], slots: 2 }), [0, 1, 2, 3])
    scheduler.take()
    scheduler.park(1)
    scheduler.unpark(1)
    expect(scheduler.drain().sort()).toEqual([2, 3])
    expect(scheduler.size).toBe(0)
    scheduler.release(0)
    expect(scheduler.take()).toEqual({ resumes: [], starts: [] })
    // What still holds a place is left for the caller to interrupt.
    expect(scheduler).toMatchObject({ running: 0, parked: 1 })
    expect(scheduler.holds(1)).toBe(true)
  })

  it("a withdrawn start gives its slot and demand back once: releasing it again when it ends changes nothing", () => {
    const resources = planResources([{ resources: { db: 1 } }, { resources: { db: 1 } }, { resources: { db: 1 } }], { db: 2 })!
    const scheduler = withReady(makeScheduler({ rank: [3, 2, 1], slots: 3, resources }), [0, 1])
    expect(scheduler.take().starts).toEqual([0, 1])
    // The run stops before the start reaches the executor: it is withdrawn.
    scheduler.release(1)
    expect(scheduler.holds(1)).toBe(false)
    scheduler.release(1)
    expect(scheduler).toMatchObject({ running: 1, parked: 0 })
    // db: one held by 0, one free: not two.
    withReady(scheduler, [1, 2])
    expect(scheduler.take().starts).toEqual([1])
    expect(scheduler.take().starts).toEqual([])
  })

  it("hold: a run in progress holds its slots and demands before any decision", () => {
    const resources = planResources([{ resources: { db: 1 } }, { resources: { db: 1 } }, {}, {}], { db: 1 })!
    const scheduler = makeScheduler({ rank: [1, 9, 8, 7], slots: 2, resources })
    scheduler.hold(0, true)
    scheduler.hold(3)
    withReady(scheduler, [1, 2])
    // 1 waits for db (held by the parked 0); one slot left, for 2.
    expect(scheduler.take().starts).toEqual([2])
    expect(scheduler).toMatchObject({ running: 2, parked: 1 })
  })
})

describe("nextToStart", () => {
  it("is one decision of a fresh scheduler", () => {
    expect(nextToStart([0, 1, 2], [5, 9, 9], 2)).toEqual([1, 2])
    expect(nextToStart([], [5], 2)).toEqual([])
  })
})
