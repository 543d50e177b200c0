/**
 * Ready-made invariants for `workflow(name, { invariants })`: the promises
 * workflows make most often, each one line, and each naming its steps so
 * that a misspelt one is a definition problem before anything runs.
 * Imported as `invariants` from `weft/properties`.
 *
 * @example
 * import { invariants } from "weft/properties"
 * workflow("ci", {
 *   resources: { db: 1 },
 *   invariants: {
 *     "deploy after tests": invariants.before("test-*", "deploy"),
 *     "one database user at a time": invariants.exclusive(["migrate", "seed"])
 *   }
 * })
 */
import { stepList, type Invariant, type RunView, type Steps } from "../dsl/Invariant.ts"

const naming = (steps: Steps, check: (run: RunView) => boolean | string): Invariant => Object.assign(check, { steps: [...stepList(steps)] })

/**
 * Every step `then` names starts only after every step `first` names has
 * succeeded (ids, or patterns with `*`). A `then` that never starts keeps it.
 *
 * @example
 * invariants: { "deploy after tests": invariants.before("test-*", "deploy") }
 */
export const before = (first: Steps, then: Steps): Invariant =>
  naming([...stepList(first), ...stepList(then)], (run) => run.succeededBefore(first, then))

/**
 * No two of the steps named ever run at the same time (from a step's first
 * attempt to its end).
 *
 * @example
 * invariants: { "one database user at a time": invariants.exclusive(["migrate", "seed", "db-*"]) }
 */
export const exclusive = (steps: Steps): Invariant => naming(steps, (run) => run.exclusive(steps))

/**
 * At most `limit` of the steps named run at the same time.
 *
 * @example
 * invariants: { "two uploads at most": invariants.atMost("upload:*", 2) }
 */
export const atMost = (steps: Steps, limit: number): Invariant =>
  naming(steps, (run) => {
    const most = run.maxRunning(steps)
    return most <= limit || `${most} of ${stepList(steps).map((s) => `"${s}"`).join(", ")} ran at the same time, more than ${limit}`
  })

/**
 * Every step named succeeds (a cache hit counts): for steps a run must never
 * lose, even when they are `optional` for the rest of the graph.
 *
 * @example
 * invariants: { "the report is written": invariants.succeeds("report") }
 */
export const succeeds = (steps: Steps): Invariant => naming(steps, (run) => run.succeeded(steps))
