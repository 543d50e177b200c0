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
