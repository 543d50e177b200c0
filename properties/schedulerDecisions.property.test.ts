/**
 * The scheduler decision by decision against the reference (differential):
 * random plans (ranks with ties, slots, resources and demands) and random
 * sequences of what a run tells its scheduler (a step becomes ready, ends,
 * gives its slot back to wait, asks for it again, the run stops), applied to
 * `makeScheduler` and to a model written from the rules in the plainest way:
 * the starts come from `referencePick`, the start rule of
 * `referenceSchedule.ts`; resumes are a first-come-first-served list served
 * before it. Every answer and every count must agree.
 *
 * The whole-run suites (`scheduler.property.test.ts`, 6b; `resources`, 8d)
 * compare the engine's schedule with the reference's; this one also reaches
 * the parts a reference schedule has no words for: parking, resuming,
 * withdrawing on stop, a release after a withdrawal.
 *
 * `WEFT_PROPERTY_RUNS=10` multiplies the number of runs for a deeper search.
 */
import * as fc from "fast-check"
import { describe, expect, test } from "vitest"
import { planResources } from "../runtime/Resources.ts"
import { makeScheduler, type Taken } from "../runtime/Scheduler.ts"
import { runs } from "./harness.ts"
import { referencePick } from "./referenceSchedule.ts"

interface PlanModel {
  readonly rank: ReadonlyArray<number>
  readonly slots: number
  /** Capacities of resources `r0`, `r1`, …; empty: none declared. */
  readonly capacity: ReadonlyArray<number>
  /** Each step's demand of each resource. */
  readonly demand: ReadonlyArray<ReadonlyArray<number>>
}

/**
 * What the run tells its scheduler. `pick` chooses a step among those the
 * operation is meant for (ready: steps not seen yet; release: steps holding
 * something; park: steps holding a slot; unpark: parked steps), or, with
 * `any`, among all steps, to check that the others are refused.
 */
type Op =
  | { readonly op: "ready" | "release" | "park" | "unpark"; readonly pick: number; readonly any: boolean }
  | { readonly op: "hold"; readonly pick: number; readonly parked: boolean }
  | { readonly op: "take" | "drain" }

const planModel: fc.Arbitrary<PlanModel> = fc.integer({ min: 1, max: 10 }).chain((n) =>
  fc.record({
    rank: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: n, maxLength: n }),
    slots: fc.integer({ min: 1, max: 4 }),
    capacity: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 })
  }).chain((plan) =>
    fc.array(fc.tuple(...plan.capacity.map((c) => fc.integer({ min: 0, max: c }))), { minLength: n, maxLength: n })
      .map((demand) => ({ ...plan, demand: demand.map((d) => [...d]) }))
  )
)

const ops: fc.Arbitrary<ReadonlyArray<Op>> = (() => {
  const pick = fc.nat({ max: 9 })
  const any = fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
  const on = (op: "ready" | "release" | "park" | "unpark") => fc.record({ op: fc.constant(op), pick, any })
  return fc.array(
    fc.oneof(
      { weight: 8, arbitrary: on("ready") },
      { weight: 10, arbitrary: fc.constant({ op: "take" as const }) },
      { weight: 6, arbitrary: on("release") },
      { weight: 4, arbitrary: on("park") },
      { weight: 4, arbitrary: on("unpark") },
      { weight: 2, arbitrary: fc.record({ op: fc.constant("hold" as const), pick, parked: fc.boolean() }) },
      // Rare: nothing starts after it.
      { weight: 1, arbitrary: fc.constant({ op: "drain" as const }) }
    ),
    { maxLength: 60, size: "max" }
  )
})()

/** The step `pick` chooses among those in `phases` (or among all, with `any`); undefined when there is none. */
const stepOf = (reference: ReferenceScheduler, pick: number, any: boolean, phases: ReadonlyArray<Phase>): number | undefined => {
  const steps = reference.phase.flatMap((phase, step) => (any || phases.includes(phase) ? [step] : []))
  return steps.length === 0 ? undefined : steps[pick % steps.length]
}

type Phase = "new" | "ready" | "slot" | "parked" | "resuming" | "gone"

/** The rules in the plainest form: arrays and `referencePick`. */
class ReferenceScheduler {
  readonly phase: Array<Phase>
  readonly ready: Array<number> = []
  readonly resuming: Array<number> = []
  readonly free: Array<number>
  readonly plan: PlanModel
  stopped = false

  constructor(plan: PlanModel) {
    this.plan = plan
    this.phase = plan.rank.map(() => "new")
    this.free = [...plan.capacity]
  }

  count(phase: Phase): number {
    return this.phase.filter((p) => p === phase).length
  }

  fits(step: number): boolean {
    return this.plan.demand[step]!.every((d, r) => d <= this.free[r]!)
  }

  #add(step: number, sign: 1 | -1): void {
    this.plan.demand[step]!.forEach((d, r) => (this.free[r]! += sign * d))
  }

  makeReady(step: number): void {
    this.phase[step] = "ready"
    this.ready.push(step)
  }

  hold(step: number, parked: boolean): void {
    this.phase[step] = parked ? "parked" : "slot"
    this.#add(step, -1)
  }

  take(): Taken {
    if (this.stopped) return { resumes: [], starts: [] }
    let running = this.count("slot")
    const resumes: Array<number> = []
    while (running < this.plan.slots && this.resuming.length > 0) {
      const step = this.resuming.shift()!
      this.phase[step] = "slot"
      running++
      resumes.push(step)
    }
    const starts = referencePick(this.ready, this.plan.rank, this.plan.slots - running, this.plan.demand, this.free)
    for (const step of starts) {
      this.ready.splice(this.ready.indexOf(step), 1)
      this.phase[step] = "slot"
      this.#add(step, -1)
    }
    return { resumes, starts }
  }

  release(step: number): void {
    const phase = this.phase[step]!
    if (phase !== "slot" && phase !== "parked" && phase !== "resuming") return
    if (phase === "resuming") this.resuming.splice(this.resuming.indexOf(step), 1)
    this.phase[step] = "gone"
    this.#add(step, 1)
  }

  park(step: number): boolean {
    if (this.phase[step] !== "slot") return false
    this.phase[step] = "parked"
    return true
  }

  unpark(step: number): boolean {
    if (this.phase[step] !== "parked") return false
    this.phase[step] = "resuming"
    this.resuming.push(step)
    return true
  }

  drain(): Array<number> {
    this.stopped = true
    const withdrawn = this.ready.splice(0)
    for (const step of withdrawn) this.phase[step] = "gone"
    return withdrawn
  }
}

const resourcesOf = (plan: PlanModel) =>
  plan.capacity.length === 0
    ? undefined
    : planResources(
      plan.demand.map((d) => ({ resources: Object.fromEntries(d.flatMap((amount, r) => (amount > 0 ? [[`r${r}`, amount]] : []))) })),
      Object.fromEntries(plan.capacity.map((c, r) => [`r${r}`, c]))
    )

/** Plays `ops` on the scheduler and the reference; throws at the first answer or count they disagree on. */
const play = (plan: PlanModel, ops: ReadonlyArray<Op>, seen: Seen): void => {
  const scheduler = makeScheduler({ rank: plan.rank, slots: plan.slots, resources: resourcesOf(plan) })
  const reference = new ReferenceScheduler(plan)
  const trace: Array<string> = []
  for (const op of ops) {
    let answer: unknown
    let expected: unknown
    const step = !("pick" in op)
      ? -1
      : stepOf(reference, op.pick, "any" in op && op.any, {
        ready: ["new"],
        hold: ["new"],
        release: ["slot", "parked", "resuming"],
        park: ["slot"],
        unpark: ["parked"]
      }[op.op] as ReadonlyArray<Phase>)
    if (step === undefined) continue
    switch (op.op) {
      case "ready":
        // A run makes a step ready once, and never after it began to stop.
        if (reference.phase[step] !== "new" || reference.stopped) continue
        scheduler.ready(step)
        reference.makeReady(step)
        break
      case "hold":
        // The forecast holds for steps that hold it in the run: they fit.
        if (!reference.fits(step)) continue
        scheduler.hold(step, op.parked)
        reference.hold(step, op.parked)
        break
      case "take": {
        const blocked = reference.ready.length > 0 && reference.count("slot") < plan.slots
        const taken = scheduler.take()
        answer = { resumes: [...taken.resumes], starts: [...taken.starts] }
        expected = reference.take()
        if (taken.resumes.length > 0) seen.resumes++
        if (blocked && reference.ready.length > 0 && reference.count("slot") < plan.slots && !reference.stopped) seen.blocked++
        break
      }
      case "release":
        scheduler.release(step)
        reference.release(step)
        break
      case "park":
        answer = scheduler.park(step)
        expected = reference.park(step)
        break
      case "unpark":
        answer = scheduler.unpark(step)
        expected = reference.unpark(step)
        break
      case "drain":
        answer = scheduler.drain().sort((a, b) => a - b)
        expected = reference.drain().sort((a, b) => a - b)
        break
    }
    trace.push(`${JSON.stringify(op)} on step ${step} -> ${JSON.stringify(answer)}`)
    const why = `${JSON.stringify(plan)}\n${trace.join("\n")}`
    expect(answer, why).toEqual(expected)
    expect({ running: scheduler.running, parked: scheduler.parked, size: scheduler.size }, why).toEqual({
      running: reference.count("slot"),
      parked: reference.count("parked") + reference.count("resuming"),
      size: reference.ready.length
    })
    for (let step = 0; step < plan.rank.length; step++) {
      const phase = reference.phase[step]
      expect(scheduler.holds(step), why).toBe(phase === "slot" || phase === "parked" || phase === "resuming")
    }
  }
}

/** How often the cases worth checking came up. */
interface Seen {
  /** Takes that handed a slot back to a parked step. */
  resumes: number
  /** Takes that left a ready step waiting beside a free slot: its demand did not fit, or a reservation held it back. */
  blocked: number
}

describe("makeScheduler against the reference, decision by decision", () => {
  test("every take, park, unpark and drain answers as the reference does, and every count agrees", () => {
    const seen: Seen = { resumes: 0, blocked: 0 }
    const parameters = runs(500)
    fc.assert(fc.property(fc.tuple(planModel, ops), ([plan, ops]) => play(plan, ops, seen)), parameters)
    // Guards against a vacuous pass: the rare paths must come up often.
    expect(seen.resumes).toBeGreaterThan(parameters.numRuns! / 10)
    expect(seen.blocked).toBeGreaterThan(parameters.numRuns! / 10)
  })
})
