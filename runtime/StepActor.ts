/**
 * The actor of one running step: a child of the run actor, spawned when the
 * step starts running and stopped when it ends, registered in the actor
 * system under the step's id (`actor.system.get("build")`).
 *
 * ```
 *              step.waiting            step.retrying
 *   running ◀──────────────▶ waiting   running ──────▶ retrying ── step.running ──▶ running
 *      │       step.running              │
 *      └── step.end ──▶ done (output: the step's end status: succeeded, failed, …)
 * ```
 *
 * It holds no work of its own: the step's body runs as an Effect fiber in the
 * host (the executor), and the run actor tells this actor what the host
 * reported. Its one duty is interruption: `step.interrupt` (the run is
 * cancelled) asks the host to interrupt this step's fiber, whose end then
 * comes back through the run actor as for any step.
 *
 * A custom `ActorLogic` (XState's public interface for actor logic) rather
 * than a machine: a machine per step costs a state node walk per event, and
 * these actors only mirror what the run actor already decided.
 */
import type { ActorLogic, AnyActorRef, Snapshot } from "xstate"
import type { RunState } from "./RunState.ts"
import type { EndStatus } from "./StepStatus.ts"

/** What a running step is doing, or how it ended. */
export type StepActorState = "running" | "waiting" | "retrying" | EndStatus

export interface StepActorContext {
  /** The step's id (also its `systemId`). */
  readonly step: string
  readonly state: StepActorState
  readonly attempt: number
  /** Why it waits or retries. */
  readonly reason?: string | undefined
}

export type StepActorSnapshot = Snapshot<EndStatus> & { readonly context: StepActorContext }

export type StepActorEvent =
  | { readonly type: "step.running"; readonly attempt: number }
  | { readonly type: "step.waiting"; readonly reason: string }
  | { readonly type: "step.retrying"; readonly attempt: number; readonly reason: string }
  | { readonly type: "step.end"; readonly status: EndStatus }
  | { readonly type: "step.interrupt" }

export interface StepActorInput extends StepActorContext {
  /** The step's index in the plan: what the host knows it by. */
  readonly index: number
  /** The host running the step's fiber: it takes `executor.interrupt` for this step. */
  readonly host: AnyActorRef | undefined
}

/** An actor's context as it starts (the run actor may spawn it already waiting). */
const contextOf = (input: StepActorInput): StepActorContext =>
  input.reason === undefined
    ? { step: input.step, state: input.state, attempt: input.attempt }
    : { step: input.step, state: input.state, attempt: input.attempt, reason: input.reason }

/** The host and index of each live step actor, by actor: kept out of the snapshot, which is plain data. */
const hosts = new WeakMap<AnyActorRef, { readonly host: AnyActorRef | undefined; readonly index: number }>()

export const stepLogic: ActorLogic<StepActorSnapshot, StepActorEvent, StepActorInput> = {
  getInitialSnapshot: (scope, input) => {
    hosts.set(scope.self, { host: input.host, index: input.index })
    return { status: "active", output: undefined, error: undefined, context: contextOf(input) }
  },
  transition: (snapshot, event, scope) => {
    if (snapshot.status !== "active") return snapshot
    const context = snapshot.context
    switch (event.type) {
      case "step.running":
        return { ...snapshot, context: { step: context.step, state: "running", attempt: event.attempt } }
      case "step.waiting":
        return { ...snapshot, context: { step: context.step, state: "waiting", attempt: context.attempt, reason: event.reason } }
      case "step.retrying":
        return { ...snapshot, context: { step: context.step, state: "retrying", attempt: event.attempt, reason: event.reason } }
      case "step.end":
        return { status: "done", output: event.status, error: undefined, context: { step: context.step, state: event.status, attempt: context.attempt } }
      case "step.interrupt": {
        const held = hosts.get(scope.self)
        // After the snapshot is committed, as XState's own `sendTo` does.
        if (held?.host !== undefined) scope.defer(() => held.host!.send({ type: "executor.interrupt", steps: [held.index] }))
        return snapshot
      }
      default:
        // XState's own events (`xstate.stop` when the run actor stops): the
        // snapshot stays what it was. Returning nothing here crashed the stop.
        return snapshot
    }
  },
  getPersistedSnapshot: (snapshot) => snapshot
}

/**
 * What the run actor's actions enqueue (XState's `enqueueActions` helpers),
 * as far as the step actors need them.
 */
export interface Enqueue {
  readonly sendTo: (target: string, event: StepActorEvent) => void
  readonly spawnChild: (src: "step", options: { readonly id: string; readonly systemId: string; readonly input: StepActorInput }) => void
  readonly stopChild: (id: string) => void
}

/**
 * What the run actor learnt of a step in one batch: how to start its actor,
 * or what to tell it. Running is the attempt alone: every step starts, and a
 * number costs no allocation.
 */
type Told = number | Exclude<StepActorEvent, { readonly type: "step.end" | "step.interrupt" | "step.running" }>

/**
 * The run actor's step actors: which step holds which child, and what to
 * tell them after a batch of reports.
 *
 * A child's `id` is a slot (`step:0`, `step:1`, …), reused once its step
 * ended; the step's id is its `systemId`. XState copies `snapshot.children`
 * with a spread on every spawn and stop and deletes a stopped child's key: with
 * 100,000 distinct keys that made V8 a hidden class per step (+8.5 µs/step
 * measured), against +5.3 µs/step with a few reused slot ids. So the children
 * stay as many as the steps running, bounded by the concurrency.
 *
 * A step whose first report and end come in the same batch gets no actor: no
 * snapshot of the run could ever show it running (XState itself does not
 * start a child spawned and stopped in one macrostep). No-op and cache-hit
 * steps, which end where they start, then cost what they cost without actors;
 * spawning one per step cost 5-6 µs/step at concurrency 8 and 17 at 64
 * (mostly XState copying `children`), against 10 µs/step for the whole run.
 */
export class StepActors {
  /** Live actors' slots, by step index. */
  readonly #slotOf = new Map<number, string>()
  readonly #free: Array<string> = []
  #made = 0
  /** Steps first heard of in this batch, with what they do now: spawned at the batch's end unless they ended. */
  readonly #fresh = new Map<number, Told>()
  /** What live actors are told at the batch's end: the latest only, since no snapshot could show the others. */
  readonly #changes = new Map<number, Told>()
  /** Live actors whose step ended in this batch. */
  readonly #ends: Array<number> = []

  /** The steps open in the batch the run actor is checking (`isQuiet` in Machine.ts). */
  readonly batch: BatchSteps

  constructor(steps: number) {
    this.batch = new BatchSteps(steps)
  }
  /** The starts a quiet batch hands the host, between its two actions. */
  next: { readonly type: "executor.start"; readonly starts: Array<{ readonly step: number; readonly inputs: Record<string, unknown> }> } | undefined

  /** The starts of the last quiet batch, once. */
  takeNext(): { readonly type: "executor.start"; readonly starts: Array<{ readonly step: number; readonly inputs: Record<string, unknown> }> } {
    const next = this.next ?? { type: "executor.start", starts: [] }
    this.next = undefined
    return next
  }

  /** How many step actors are alive. */
  get size(): number {
    return this.#slotOf.size
  }

  /** Whether step `i` has an actor. */
  has(i: number): boolean {
    return this.#slotOf.has(i)
  }

  /** Notes what the host reported of step `i` (a step's start, wait, retry or end). */
  tell(i: number, told: Told): void {
    if (this.#slotOf.has(i)) this.#changes.set(i, told)
    else this.#fresh.set(i, told)
  }

  /** Notes that step `i` ended. */
  end(i: number): void {
    if (this.#slotOf.has(i)) {
      this.#changes.delete(i)
      this.#ends.push(i)
    } else this.#fresh.delete(i)
  }

  /**
   * Enqueues what the batch asks of the step actors: each ended step's actor
   * is told its end status, then stopped (its slot freed first, so a step
   * starting in the same batch may take it); each step heard of for the
   * first time gets an actor; the rest are told their latest state.
   */
  commit(enqueue: Enqueue, run: RunState, host: AnyActorRef | undefined): void {
    const ids = run.plan.ids
    if (this.#ends.length > 0) {
      for (const i of this.#ends) {
        const slot = this.#slotOf.get(i)!
        enqueue.sendTo(slot, { type: "step.end", status: run.status[i] as EndStatus })
        enqueue.stopChild(slot)
        this.#slotOf.delete(i)
        this.#free.push(slot)
      }
      this.#ends.length = 0
    }
    if (this.#changes.size > 0) {
      for (const [i, told] of this.#changes) enqueue.sendTo(this.#slotOf.get(i)!, typeof told === "number" ? { type: "step.running", attempt: told } : told)
      this.#changes.clear()
    }
    if (this.#fresh.size > 0) {
      for (const [i, told] of this.#fresh) {
        const slot = this.#free.pop() ?? `step:${this.#made++}`
        this.#slotOf.set(i, slot)
        enqueue.spawnChild("step", { id: slot, systemId: ids[i]!, input: inputOf(i, ids[i]!, told, run.attempts[i]!, host) })
      }
      this.#fresh.clear()
    }
  }

  /** Asks every live step actor to interrupt its step; returns the steps that have one. */
  interrupt(enqueue: Enqueue): ReadonlySet<number> {
    for (const slot of this.#slotOf.values()) enqueue.sendTo(slot, { type: "step.interrupt" })
    return new Set(this.#slotOf.keys())
  }

  /** In an inspection: each live actor's slot, by step index. */
  toJSON(): Record<string, string> {
    return Object.fromEntries(this.#slotOf)
  }
}

/**
 * A set of step indices that is emptied by starting the next batch: each
 * step's mark is the stamp of the batch it was last added in. A typed array
 * made once per run, where a `Set` emptied after every batch reallocated its
 * table on adds, deletes and clears, and those tables, held by a set that
 * lives as long as the run, outlived young-generation collections: 0.15 KB a
 * step of garbage promoted to the old generation at 100,000 no-op steps.
 */
export class BatchSteps {
  readonly #mark: Uint32Array
  #stamp = 0
  #size = 0

  constructor(steps: number) {
    this.#mark = new Uint32Array(steps)
  }

  /** Empties the set, for the next batch. */
  begin(): void {
    this.#stamp++
    this.#size = 0
  }

  add(i: number): void {
    if (this.#mark[i] === this.#stamp) return
    this.#mark[i] = this.#stamp
    this.#size++
  }

  delete(i: number): void {
    if (this.#mark[i] !== this.#stamp) return
    this.#mark[i] = 0
    this.#size--
  }

  get size(): number {
    return this.#size
  }
}

const inputOf = (index: number, step: string, told: Told, attempt: number, host: AnyActorRef | undefined): StepActorInput => {
  if (typeof told === "number") return { index, host, step, state: "running", attempt: told }
  switch (told.type) {
    case "step.waiting":
      return { index, host, step, state: "waiting", attempt, reason: told.reason }
    case "step.retrying":
      return { index, host, step, state: "retrying", attempt: told.attempt, reason: told.reason }
  }
}
