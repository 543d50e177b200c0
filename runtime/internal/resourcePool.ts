import type { ResourcePlan } from "../Resources.ts"
import { ReadyQueue } from "./readyQueue.ts"

/**
 * The ready steps of a workflow with resources, what is free of each
 * resource, and the start decision under them: the rules of `Resources.ts`,
 * for the scheduler (`Scheduler.ts`), which is the only one to use it.
 *
 * Ready steps are queued by class (the same demand), each class best first,
 * and `#heads` holds each class's best step. A class whose best step does not
 * fit blocks the whole class for that decision (what is free only shrinks
 * while deciding), so a decision looks at one step per blocked class instead
 * of every blocked step: with thousands of steps waiting for one database, a
 * step ending costs O(log n), not O(waiting).
 */
export class ResourcePool {
  readonly #plan: ResourcePlan
  readonly #k: number
  /** Free amounts; during `take`, minus the blocked step's reservation (may go below 0). */
  readonly #free: Int32Array
  readonly #rank: ArrayLike<number>
  /** Ready steps by class, made on first use. */
  readonly #queues: Array<ReadyQueue | undefined>
  /**
   * Candidates for the best ready step of each class, best first. A class's
   * best step is pushed when it becomes the best; an entry that is no longer
   * its class's best is stale and skipped (no decrease-key needed).
   */
  #heads: ReadyQueue
  #size = 0

  constructor(plan: ResourcePlan, rank: ArrayLike<number>) {
    this.#plan = plan
    this.#k = plan.names.length
    this.#free = plan.capacity.slice()
    this.#rank = rank
    this.#queues = new Array<ReadyQueue | undefined>(plan.classes)
    this.#heads = new ReadyQueue(rank)
  }

  /** How many steps are ready (waiting for a slot or a resource). */
  get size(): number {
    return this.#size
  }

  /** Queues a ready step. */
  push(i: number): void {
    const c = this.#plan.classOf[i]!
    const queue = (this.#queues[c] ??= new ReadyQueue(this.#rank))
    queue.push(i)
    this.#size++
    if (queue.first === i) this.#heads.push(i)
  }

  /** Removes and returns every ready step. */
  drain(): Array<number> {
    const all: Array<number> = []
    for (const queue of this.#queues) if (queue !== undefined) all.push(...queue.drain())
    this.#heads = new ReadyQueue(this.#rank)
    this.#size = 0
    return all
  }

  /**
   * Removes, best first, the ready steps to start now with `slots` slots
   * free, and takes their demands; the steps that do not fit stay queued.
   * The best blocked step reserves its demand (see the module doc).
   */
  take(slots: number): Array<number> {
    const chosen: Array<number> = []
    let blocked: Array<number> | undefined
    let head = -1
    const heads = this.#heads
    while (chosen.length < slots && heads.size > 0) {
      const i = heads.pop()!
      const queue = this.#queues[this.#plan.classOf[i]!]!
      if (queue.first !== i) continue
      if (this.#fits(i)) {
        queue.pop()
        this.#size--
        this.#add(i, -1)
        chosen.push(i)
        if (queue.size > 0) heads.push(queue.first!)
        continue
      }
      // Its class waits: the rest of it asks for the same, and nothing frees up while deciding.
      ;(blocked ??= []).push(i)
      if (head === -1) {
        head = i
        this.#add(head, -1)
      }
    }
    if (head !== -1) this.#add(head, 1)
    if (blocked !== undefined) for (const i of blocked) heads.push(i)
    return chosen
  }

  /** Gives back what step `i` holds. */
  release(i: number): void {
    this.#add(i, 1)
  }

  /** Step `i` holds its demand without a decision: it already runs (a run in progress, as the forecast sees it). */
  hold(i: number): void {
    this.#add(i, -1)
  }

  #fits(i: number): boolean {
    const { demand } = this.#plan
    for (let r = 0, at = i * this.#k; r < this.#k; r++, at++) {
      const d = demand[at]!
      if (d > 0 && d > this.#free[r]!) return false
    }
    return true
  }

  #add(i: number, sign: 1 | -1): void {
    const { demand } = this.#plan
    for (let r = 0, at = i * this.#k; r < this.#k; r++, at++) this.#free[r]! += sign * demand[at]!
  }
}
