/**
 * What starts next: weft's one scheduler, used by the run (`RunState`) and by
 * the forecast's simulation of the rest of a run (`forecast/`). It is pure: no
 * clock, no I/O, no events. Its caller says what happened (a step became
 * ready, gave its slot back to wait, asks for it again, ended) and asks what
 * to start; it answers with step indices.
 *
 * The rules:
 * - Priority: among ready steps, the one with the longest remaining path to
 *   the end of the graph (`rank`) goes first, ties by declaration order: a
 *   list schedule with critical-path priority, deterministic and close to the
 *   optimal makespan.
 * - Slots: at most `slots` steps hold a slot at once (the concurrency).
 * - Resources (`Resources.ts`): a step starts only if its whole demand fits,
 *   and holds it until it ends, parked or not; the best ready step that does
 *   not fit reserves its demand, so smaller steps never starve it.
 * - Resumes before starts: a step that gave its slot back to wait for its rate
 *   limit (`park`) and whose turn came (`unpark`) gets the next free slot,
 *   first come first served, before any new start: it holds its limiter's
 *   turn, and every step queued behind that limiter waits for it.
 * - Stop (`drain`): the ready steps are withdrawn and nothing starts again.
 *
 * A step's hold, once the scheduler handed it out:
 * ```
 *           take              park               unpark
 *   ready ───────▶ slot ─────────────▶ parked ─────────────▶ resuming
 *                   ▲                                           │
 *                   └─────────────────── take ──────────────────┘
 *   release (ended, or a start withdrawn): any hold ──▶ none, slot and demand given back
 * ```
 *
 * The ready set is a binary heap (`internal/readyQueue.ts`), or with
 * resources one per demand class (`internal/resourcePool.ts`), so each
 * decision costs O(log n) even with 100,000 steps.
 *
 * @example
 * const scheduler = makeScheduler({ rank: [5, 9, 9], slots: 2 })
 * for (const step of [0, 1, 2]) scheduler.ready(step)
 * scheduler.take() // => { resumes: [], starts: [1, 2] }
 * scheduler.release(1)
 * scheduler.take() // => { resumes: [], starts: [0] }
 */
import type { ResourcePlan } from "./Resources.ts"
import { ReadyQueue } from "./internal/readyQueue.ts"
import { ResourcePool } from "./internal/resourcePool.ts"

export interface SchedulerPlan {
  /** Each step's priority: its longest path to the end of the graph (`Plan.rank`). One entry per step. */
  readonly rank: ArrayLike<number>
  /** How many steps may hold a slot at once. */
  readonly slots: number
  /** The workflow's resources, laid out by `planResources`; `undefined` for none (the plain, faster path). */
  readonly resources?: ResourcePlan | undefined
}

/** What one decision hands out, best first within each list. */
export interface Taken {
  /** Parked steps that get a slot back, in the order they asked. */
  readonly resumes: ReadonlyArray<number>
  /** Ready steps that start now, having taken a slot and their demand. */
  readonly starts: ReadonlyArray<number>
}

export interface Scheduler {
  /** Step `step`'s dependencies are met: it waits for a slot (and its demand). */
  ready(step: number): void
  /** Hands out the free slots: to the resuming steps first, then to the best ready steps that fit. */
  take(): Taken
  /**
   * What `take` decides, each step handed over as it is decided (resumes
   * first, then starts, each list in `take`'s order), without a list: the
   * run asks after every step's end, and two lists and a record per end were
   * most of what deciding allocated.
   */
  takeEach(resume: (step: number) => void, start: (step: number) => void): void
  /** Step `step` ended, or its start was withdrawn: its slot (if it held one) and its demand go back. No-op for a step that holds nothing. */
  release(step: number): void
  /** Step `step` gives its slot back to wait, keeping its demand; false (and nothing changes) unless it held a slot. */
  park(step: number): boolean
  /** Parked step `step` asks for a slot again (its rate limit's turn came); false unless it was parked. */
  unpark(step: number): boolean
  /**
   * Step `step` already holds a slot (or, `parked`, only its demand) without
   * a decision: a run in progress as the forecast finds it.
   */
  hold(step: number, parked?: boolean): void
  /** The run stops: withdraws and returns every ready step; `take` hands out nothing from now on. */
  drain(): Array<number>
  /** Whether step `step` holds anything: a slot, or a place as a parked or resuming step. */
  holds(step: number): boolean
  /** Steps holding a slot. */
  readonly running: number
  /** Steps handed out that gave their slot back (parked or resuming). */
  readonly parked: number
  /** Ready steps waiting for a slot or their demand. */
  readonly size: number
}

/** A step's hold: see the diagram in the module doc. */
const NONE = 0
const SLOT = 1
const PARKED = 2
const RESUMING = 3

const none: ReadonlyArray<number> = Object.freeze([])
const nothing: Taken = Object.freeze({ resumes: none, starts: none })

class StepScheduler implements Scheduler {
  readonly #slots: number
  /** The ready steps without resources; `undefined` when the pool keeps them. */
  readonly #queue: ReadyQueue | undefined
  readonly #pool: ResourcePool | undefined
  /** Each step's hold (a typed array: no allocation per step). */
  readonly #held: Uint8Array
  /** Steps asking for their slot back, first come first served. */
  readonly #resuming: Array<number> = []
  #resumingHead = 0
  #running = 0
  #parked = 0
  #stopped = false

  constructor(plan: SchedulerPlan) {
    this.#slots = plan.slots
    this.#held = new Uint8Array(plan.rank.length)
    this.#pool = plan.resources === undefined ? undefined : new ResourcePool(plan.resources, plan.rank)
    this.#queue = this.#pool === undefined ? new ReadyQueue(plan.rank) : undefined
  }

  get running(): number {
    return this.#running
  }

  get parked(): number {
    return this.#parked
  }

  get size(): number {
    return this.#pool === undefined ? this.#queue!.size : this.#pool.size
  }

  ready(step: number): void {
    if (this.#pool === undefined) this.#queue!.push(step)
    else this.#pool.push(step)
  }

  take(): Taken {
    if (this.#stopped || this.#running >= this.#slots) return nothing
    let resumes: Array<number> | undefined
    let starts: Array<number> | undefined
    this.takeEach((step) => (resumes ??= []).push(step), (step) => (starts ??= []).push(step))
    return resumes === undefined && starts === undefined ? nothing : { resumes: resumes ?? none, starts: starts ?? none }
  }

  takeEach(resume: (step: number) => void, start: (step: number) => void): void {
    if (this.#stopped || this.#running >= this.#slots) return
    if (this.#resumingHead < this.#resuming.length) this.#resume(resume)
    this.#start(start)
  }

  release(step: number): void {
    const held = this.#held[step]!
    if (held === NONE) return
    if (held === SLOT) this.#running--
    else this.#parked--
    this.#held[step] = NONE
    this.#pool?.release(step)
  }

  park(step: number): boolean {
    if (this.#held[step] !== SLOT) return false
    this.#held[step] = PARKED
    this.#running--
    this.#parked++
    return true
  }

  unpark(step: number): boolean {
    if (this.#held[step] !== PARKED) return false
    this.#held[step] = RESUMING
    this.#resuming.push(step)
    return true
  }

  hold(step: number, parked = false): void {
    this.#held[step] = parked ? PARKED : SLOT
    if (parked) this.#parked++
    else this.#running++
    this.#pool?.hold(step)
  }

  drain(): Array<number> {
    this.#stopped = true
    return this.#pool === undefined ? this.#queue!.drain() : this.#pool.drain()
  }

  holds(step: number): boolean {
    return this.#held[step] !== NONE
  }

  /** Hands free slots back to the steps asking for them, in the order they asked. */
  #resume(resume: (step: number) => void): void {
    const queue = this.#resuming
    while (this.#running < this.#slots && this.#resumingHead < queue.length) {
      const step = queue[this.#resumingHead++]!
      // A step that ended while asking (interrupted) left its entry behind.
      if (this.#held[step] !== RESUMING) continue
      this.#held[step] = SLOT
      this.#parked--
      this.#running++
      resume(step)
    }
    if (this.#resumingHead === queue.length) {
      queue.length = 0
      this.#resumingHead = 0
    }
  }

  /** The best ready steps that fit in the free slots, each taking its slot and demand. */
  #start(start: (step: number) => void): void {
    const free = this.#slots - this.#running
    if (free <= 0) return
    if (this.#pool !== undefined) {
      const starts = this.#pool.take(free)
      for (let i = 0; i < starts.length; i++) this.#started(starts[i]!, start)
    } else {
      const queue = this.#queue!
      for (let k = 0; k < free && queue.size > 0; k++) this.#started(queue.pop()!, start)
    }
  }

  #started(step: number, start: (step: number) => void): void {
    this.#held[step] = SLOT
    this.#running++
    start(step)
  }
}

/** A scheduler for the steps `0..rank.length-1` of a plan, none of them ready yet. */
export const makeScheduler = (plan: SchedulerPlan): Scheduler => new StepScheduler(plan)

/**
 * The steps to start now: the best `free` of `ready` by priority (one
 * decision of a fresh scheduler with `free` slots).
 *
 * @example
 * nextToStart([0, 1, 2], [5, 9, 9], 2) // => [1, 2]
 */
export const nextToStart = (ready: Iterable<number>, rank: ArrayLike<number>, free: number): Array<number> => {
  const scheduler = makeScheduler({ rank, slots: free })
  for (const step of ready) scheduler.ready(step)
  return [...scheduler.take().starts]
}
