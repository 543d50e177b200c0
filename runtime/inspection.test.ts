/**
 * The run is an XState actor system: its states, a child actor per running
 * step registered under the step's id, and XState's own inspection stream.
 */
import { createActor, type AnyActorRef, type InspectionEvent } from "xstate"
import { describe, expect, it, vi } from "vitest"
import { workflow } from "../dsl/Workflow.ts"
import { compile } from "./Machine.ts"

/** A promise the test settles. */
const gate = () => {
  let open!: () => void
  let fail!: (error: Error) => void
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  return { promise, open, fail }
}

const refOf = (event: InspectionEvent) => event.actorRef as unknown as AnyActorRef & { readonly systemId?: string }

/** Step actors among the run actor's children (the host is the other one). */
const stepChildren = (actor: AnyActorRef) =>
  Object.values((actor.getSnapshot() as { readonly children: Record<string, AnyActorRef> }).children).filter((child) => child.id.startsWith("step:"))

/** The run actor's state after each of its snapshots. */
const statesOf = (actor: AnyActorRef): Array<string> => {
  const states: Array<string> = []
  actor.subscribe((snapshot: { readonly value: string }) => {
    if (states.at(-1) !== snapshot.value) states.push(snapshot.value)
  })
  return states
}

const done = (actor: AnyActorRef) => new Promise<void>((resolve) => actor.subscribe({ complete: resolve }))

describe("the run's actor system", () => {
  it("has an actor exactly for each running step, under the step's id, and XState's inspection shows them come and go", async () => {
    const gates = { a: gate(), b: gate(), c: gate() }
    const wf = workflow("inspected", { concurrency: 2 })
      .step("a", () => gates.a.promise)
      .step("c", () => gates.c.promise)
      .step("b", { needs: ["a"] }, () => gates.b.promise)
    const inspected: Array<InspectionEvent> = []
    const actor = createActor(compile(wf), { inspect: (event) => inspected.push(event) })
    const finished = done(actor)
    actor.start()

    // a and c run (concurrency 2); b waits for a.
    await vi.waitFor(() => expect(actor.system.get("c")).toBeDefined())
    expect(actor.system.get("a")).toBeDefined()
    expect(actor.system.get("b")).toBeUndefined()
    expect(actor.getSnapshot().value).toBe("running")
    expect(actor.getSnapshot().context.steps).toEqual({ a: "running", c: "running", b: "pending" })
    expect(actor.getSnapshot().context.progress).toMatchObject({ total: 3, running: 2, pending: 1 })
    expect(stepChildren(actor).map((child) => child.getSnapshot().context)).toEqual([
      { step: "a", state: "running", attempt: 1 },
      { step: "c", state: "running", attempt: 1 }
    ])

    gates.a.open()
    await vi.waitFor(() => expect(actor.system.get("b")).toBeDefined())
    expect(actor.system.get("a")).toBeUndefined()
    expect(actor.getSnapshot().context.steps.a).toBe("succeeded")
    expect(stepChildren(actor)).toHaveLength(2)

    gates.c.open()
    gates.b.open()
    await finished
    expect(actor.getSnapshot().value).toBe("succeeded")
    expect(actor.getSnapshot().output).toMatchObject({ status: "succeeded" })
    for (const id of ["a", "b", "c"]) expect(actor.system.get(id)).toBeUndefined()

    // Created in this order: the run, the host, then each step's actor as it started.
    const created = inspected.filter((event) => event.type === "@xstate.actor").map((event) => {
      const ref = refOf(event)
      return ref.sessionId === event.rootId ? "run" : ref.systemId ?? ref.id
    })
    expect(created).toEqual(["run", "executor", "a", "c", "b"])
    // Each step actor's last snapshot is its end: done, with the step's end status as output.
    const lastOf = (id: string) =>
      inspected.filter((event) => event.type === "@xstate.snapshot" && refOf(event).systemId === id).at(-1) as { readonly snapshot: { readonly status: string; readonly output: unknown } }
    for (const id of ["a", "b", "c"]) expect(lastOf(id).snapshot).toMatchObject({ status: "done", output: "succeeded" })
    // Step actors were told of their end by the run actor.
    expect(inspected.some((event) => event.type === "@xstate.event" && refOf(event).systemId === "b" && event.event.type === "step.end")).toBe(true)
  })

  it("a step actor shows its step waiting for its rate limit, retrying (which waits for the limit again), running again, and its end", async () => {
    const wf = workflow("states", { concurrency: 2, rateLimits: { api: { limit: 1, per: 300 } } })
      .step("first", { rateLimit: "api" }, () => 1)
      .step("second", { rateLimit: "api", retry: { times: 1, delay: 30 } }, async (_: unknown, ctx: { readonly attempt: number }) => {
        await new Promise((resolve) => setTimeout(resolve, 10))
        if (ctx.attempt === 1) throw new Error("flaky")
        return 2
      })
    const inspected: Array<InspectionEvent> = []
    const actor = createActor(compile(wf), { inspect: (event) => inspected.push(event) })
    const finished = done(actor)
    actor.start()
    await finished
    const states = inspected.flatMap((event) =>
      event.type === "@xstate.snapshot" && refOf(event).systemId === "second" ? [(event.snapshot as unknown as { readonly context: { readonly state: string } }).context.state] : [])
    expect(states.filter((state, i) => state !== states[i - 1])).toEqual(["waiting", "running", "retrying", "waiting", "running", "succeeded"])
  })

  it("cancel: running → cancelling → cancelled, interrupting each running step through its actor", async () => {
    const wf = workflow("cancelled", { concurrency: 2 })
      .step("a", () => new Promise<void>(() => {}))
      .step("b", { needs: ["a"] }, () => 1)
    const inspected: Array<InspectionEvent> = []
    const actor = createActor(compile(wf), { inspect: (event) => inspected.push(event) })
    const states = statesOf(actor)
    const finished = done(actor)
    actor.start()
    await vi.waitFor(() => expect(actor.system.get("a")).toBeDefined())
    actor.send({ type: "cancel" })
    await finished
    expect(states).toEqual(["starting", "running", "cancelling", "cancelled"])
    expect(actor.getSnapshot().output).toMatchObject({ status: "cancelled", steps: { a: { status: "cancelled" }, b: { status: "cancelled" } } })
    expect(inspected.some((event) => event.type === "@xstate.event" && refOf(event).systemId === "a" && event.event.type === "step.interrupt")).toBe(true)
  })

  it("a failure with failFast: running → failing → failed, the other running step interrupted", async () => {
    const slow = gate()
    const wf = workflow("failing", { concurrency: 2 })
      .step("slow", () => new Promise<void>(() => {}))
      .step("bad", async () => {
        await slow.promise
        throw new Error("boom")
      })
    const actor = createActor(compile(wf))
    const states = statesOf(actor)
    const finished = done(actor)
    actor.start()
    await vi.waitFor(() => expect(actor.system.get("bad")).toBeDefined())
    slow.open()
    await finished
    expect(states).toEqual(["starting", "running", "failing", "failed"])
    expect(actor.getSnapshot().output).toMatchObject({ status: "failed", steps: { bad: { status: "failed" }, slow: { status: "cancelled" } } })
  })

  it("without failFast a failure does not stop the run, which ends failed", async () => {
    const wf = workflow("continuing", { failFast: false }).step("bad", () => {
      throw new Error("boom")
    }).step("good", () => 1)
    const actor = createActor(compile(wf))
    const states = statesOf(actor)
    const finished = done(actor)
    actor.start()
    await finished
    expect(states).toEqual(["starting", "running", "failed"])
  })

  it("an empty workflow: starting → succeeded, in the run's first turn", async () => {
    const actor = createActor(compile(workflow("empty")))
    const states = statesOf(actor)
    const finished = done(actor)
    actor.start()
    await finished
    expect(states).toEqual(["starting", "succeeded"])
    expect(actor.getSnapshot().output).toMatchObject({ status: "succeeded", steps: {} })
  })

  it("emits the run's events through actor.on, in order, however many steps are ready at once", async () => {
    const ids = Array.from({ length: 3000 }, (_, i) => `s${i}`)
    const wf = ids.reduce((w, id) => w.step(id, () => 1), workflow("wide", { concurrency: 4 }) as ReturnType<typeof workflow>)
    const actor = createActor(compile(wf))
    const types: Array<string> = []
    actor.on("*", (event) => types.push(event.type))
    const finished = done(actor)
    actor.start()
    await finished
    expect(types[0]).toBe("run:start")
    expect(types.at(-1)).toBe("run:end")
    expect(types.filter((type) => type === "step:ready")).toHaveLength(3000)
    expect(types.filter((type) => type === "step:end")).toHaveLength(3000)
  })
})
