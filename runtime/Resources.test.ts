import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { makeStepDef } from "../dsl/Step.ts"
import { Workflow, workflow } from "../dsl/Workflow.ts"
import { runOnTestClock } from "../properties/harness.ts"
import type { Event } from "./Event.ts"
import * as Plan from "./Plan.ts"
import { messageOf } from "../test/fixtures/definitionError.ts"

const untyped = (options: object, steps: Array<[string, object]>) =>
  Workflow.make("etl", options, steps.map(([id, opts]) => makeStepDef(id, opts, () => id)))


/** A step that holds its resources for `ms` virtual milliseconds. */
const sleep = (ms: number) => () => Effect.sleep(ms)

/** `step@time` for each start, in order. */
const startsOf = (events: ReadonlyArray<Event>): Array<string> =>
  events.flatMap((e) => (e.type === "step:start" ? [`${e.step}@${e.time}`] : []))

describe("resources: definition errors", () => {
  it("reports every resource problem at once, naming the file, the step and the fix", () => {
    const wf = untyped({ resources: { db: 1, gpu: 2, memoryMB: 0, slots: 4 } }, [
      ["migrate", { resources: { dbb: 1 } }],
      ["train", { resources: { gpu: 3 } }],
      ["load", { resources: { db: 0.5 } }],
      ["seed", { resources: { slots: 1 } }],
      ["ok", { resources: { db: 1, gpu: 2 } }]
    ])
    const text = messageOf(() => Plan.make(wf, { file: "etl.ts" }))
    expect(text).toMatch(/^etl\.ts, workflow "etl" has 6 problems:/)
    expect(text).toContain(`resource "memoryMB" needs a whole-number capacity of at least 1, not 0`)
    expect(text).toContain(`resources cannot declare "slots": slots are the concurrency limit, set concurrency: 4 instead`)
    expect(text).toContain(`step "migrate": resources: "dbb" is not a resource of this workflow. Did you mean "db"? Declare it: workflow(name, { resources: { dbb: 1 } })`)
    expect(text).toContain(`step "train": resources: asks for 3 "gpu", but the workflow has only 2: lower the demand or raise resources.gpu`)
    expect(text).toContain(`step "load": resources: "db" must be a whole number of at least 1, not 0.5`)
    expect(text).not.toContain(`step "ok"`)
    expect(text).toContain(`step "seed": resources cannot ask for "slots": every step takes one slot`)
  })

  it("rejects a demand when the workflow declares no resources, and resources that are not a map", () => {
    const text = messageOf(() => Plan.make(untyped({ resources: [1] }, [["a", { resources: { db: 1 } }], ["b", { resources: 2 }]])))
    expect(text).toContain("resources must map names to capacities, like resources: { db: 1 }, not [1]")
    expect(text).toContain(`step "a": resources: "db" is not a resource of this workflow. Declare it`)
    expect(text).toContain(`step "b": resources must map names to amounts`)
  })

  it("lays demands out as one vector per step, and not at all without resources", () => {
    const plan = Plan.make(untyped({ resources: { db: 1, gpu: 2 } }, [["a", { resources: { gpu: 2 } }], ["b", {}], ["c", { resources: { db: 1, gpu: 1 } }]]))
    expect(plan.resources?.names).toEqual(["db", "gpu"])
    expect([...plan.resources!.capacity]).toEqual([1, 2])
    expect([...plan.resources!.demand]).toEqual([0, 2, 0, 0, 1, 1])
    expect(Plan.make(untyped({}, [["a", {}]])).resources).toBeUndefined()
    // With `only`, the vectors follow the kept steps.
    expect([...Plan.make(untyped({ resources: { db: 1, gpu: 2 } }, [["a", { resources: { gpu: 2 } }], ["c", { resources: { db: 1 } }]]), { only: ["c"] }).resources!.demand]).toEqual([1, 0])
  })

  it("accepts resources on .each, for every item and not the gathering step", () => {
    const wf = workflow("tests", { resources: { db: 1 } }).each("it", ["a", "b"], { resources: { db: 1 } }, () => () => 1)
    expect(wf.steps.map((s) => s.resources)).toEqual([{ db: 1 }, { db: 1 }, undefined])
  })
})

describe("resources: scheduling", () => {
  it("acquires a whole demand at once: a step needing db and gpu never holds one while it waits for the other", async () => {
    // From 10, "both" waits for the gpu (held by b until 20). It holds no db
    // meanwhile: "urgent", ready at 12 and ranked higher, takes the db at once
    // (were db held by "both", urgent would wait until 25).
    const wf = workflow("atomic", { concurrency: 8, resources: { db: 1, gpu: 1 } })
      .step("a", { resources: { db: 1 } }, sleep(10))
      .step("b", { resources: { gpu: 1 } }, sleep(20))
      .step("t", { estimate: 12 }, sleep(12))
      .step("both", { after: ["a"], resources: { db: 1, gpu: 1 }, estimate: 100 }, sleep(5))
      .step("urgent", { after: ["t"], resources: { db: 1 }, estimate: 200 }, sleep(3))
    const { events, result } = await runOnTestClock(wf, 1000)
    expect(result.status).toBe("succeeded")
    expect(startsOf(events)).toEqual(["t@0", "a@0", "b@0", "urgent@12", "both@20"])
  })

  it("never lets lower-priority steps overtake a blocked step on what it waits for (reservation)", async () => {
    // big needs 2 gpu; a stream of small 1-gpu steps ranks lower. Without the
    // reservation, small2 would take the gpu freed at 10 and big would wait
    // for the whole stream.
    const wf = workflow("starve", { concurrency: 8, resources: { gpu: 2 } })
      .step("small1", { resources: { gpu: 1 }, estimate: 1 }, sleep(10))
      .step("big", { after: ["small1"], resources: { gpu: 2 }, estimate: 50 }, sleep(50))
      .step("small2", { resources: { gpu: 1 }, estimate: 1 }, sleep(30))
      .step("small3", { after: ["small1"], resources: { gpu: 1 }, estimate: 1 }, sleep(30))
      .step("free", { after: ["small1"], estimate: 1 }, sleep(1))
    const { events } = await runOnTestClock(wf, 1000)
    // At 10 big is blocked (small2 holds a gpu): small3 must not take the other,
    // while "free", which needs no gpu, uses a free slot at once.
    expect(startsOf(events)).toEqual(["small1@0", "small2@0", "free@10", "big@30", "small3@80"])
  })

  it("gives resources back whatever the step's end: failed, or cancelled by the run", async () => {
    const wf = workflow("release", { concurrency: 4, failFast: false, resources: { db: 1 } })
      .step("breaks", { resources: { db: 1 }, estimate: 10 }, () => Effect.andThen(Effect.sleep(5), Effect.fail(new Error("no"))))
      .step("after", { resources: { db: 1 } }, sleep(5))
    const { events, result } = await runOnTestClock(wf, 1000)
    expect(result.steps.after?.status).toBe("succeeded")
    expect(startsOf(events)).toEqual(["breaks@0", "after@5"])
  })
})
