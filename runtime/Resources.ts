/**
 * Named resources with capacities (`resources: { db: 1, gpu: 2 }` on the
 * workflow) that steps hold while they run (`resources: { db: 1 }` on a step).
 *
 * Rules:
 * - A step takes its whole demand at once when it starts, or nothing: a step
 *   that waits holds no resource and no slot, so no two steps can each hold
 *   what the other waits for (no deadlock), and every demand fits the capacity
 *   (checked by the plan), so a blocked step can always start once others end.
 * - It holds its demand until it ends, whatever the status (retries and their
 *   delays included, and a wait for a rate limit, during which it gives back
 *   only its slot).
 * - Priority stays the critical path: among ready steps, best first, each
 *   starts if its demand fits now.
 * - Starvation: the best-ranked ready step that does not fit reserves its
 *   whole demand. A lower-ranked step starts only if it fits in what is free
 *   after that reservation, so small steps never overtake a large one on the
 *   resources it waits for; it starts as soon as the running holders end.
 *   (Slots are not reserved: a step blocked on `db` lets others use the free
 *   slots when they leave `db` alone.)
 *
 * `slots` is not a resource name: it is `concurrency`, the one slot every
 * step takes. Nor is `commands`: it is `commandConcurrency`, which weft adds
 * as a resource each command step holds one of (`concurrency.ts`).
 */
import type { StepDef } from "../dsl/Step.ts"
import { ReadyQueue } from "./Scheduler.ts"

/** A workflow's resources, laid out for the scheduler. */
export interface ResourcePlan {
  /** Resource names, in declaration order: resource `r` is `names[r]`. */
  readonly names: ReadonlyArray<string>
  readonly capacity: Int32Array
  /** Step `i`'s demand of resource `r` is `demand[i * names.length + r]` (0: none). */
  readonly demand: Int32Array
  /** Steps with the same demand share a class: `classOf[i]`, numbered from 0. */
  readonly classOf: Int32Array
  /** How many classes there are. */
  readonly classes: number
}

type Amounts = Readonly<Record<string, number>> | undefined

/** The resource plan of `steps` under a valid `capacity`; `undefined` when the workflow declares none, so runs without resources take the plain path. */
export const planResources = (steps: ReadonlyArray<{ readonly resources?: StepDef["resources"] }>, capacity: Amounts): ResourcePlan | undefined => {
  if (capacity === undefined) return undefined
  const names = Object.keys(capacity)
  if (names.length === 0) return undefined
  const k = names.length
  const demand = new Int32Array(steps.length * k)
  const classOf = new Int32Array(steps.length)
  // Class 0: no demand, the usual case, without building a key.
  const classes = new Map<string, number>([["", 0]])
  for (let i = 0; i < steps.length; i++) {
    const wants = steps[i]!.resources
    if (wants === undefined) continue
    for (let r = 0; r < k; r++) demand[i * k + r] = wants[names[r]!] ?? 0
    const key = demand.subarray(i * k, i * k + k).every((d) => d === 0) ? "" : demand.subarray(i * k, i * k + k).join(",")
    let c = classes.get(key)
    if (c === undefined) classes.set(key, (c = classes.size))
    classOf[i] = c
  }
  return { names, capacity: Int32Array.from(names, (name) => capacity[name]!), demand, classOf, classes: classes.size }
}

/**
 * The ready steps of a workflow with resources, what is free of each
 * resource, and the start decision under them.
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

  /** Free amount of each resource, by name. */
  get free(): Record<string, number> {
    return Object.fromEntries(this.#plan.names.map((name, r) => [name, this.#free[r]!]))
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
