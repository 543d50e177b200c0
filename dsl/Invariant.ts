/**
 * A workflow's own promises: named checks that every run must satisfy ("deploy
 * never starts before every test succeeded", "no two steps using the database
 * run at once"), declared with `workflow(name, { invariants })` and checked by
 * `verify` on every schedule it draws and on a plain run.
 *
 * A check sees one run through a read-only {@link RunView}: each step's
 * status, attempts, value and when it started and ended, with helpers that
 * make the common promises one line. It returns `true` or nothing when the
 * promise held; `false` or a sentence saying what went wrong when it did not
 * (throwing counts as not holding, its message the sentence).
 *
 * @example
 * workflow("ci", {
 *   invariants: {
 *     "deploy after tests": (run) => run.succeededBefore("test-*", "deploy"),
 *     "one database user at a time": (run) => run.exclusive(["migrate", "seed"])
 *   }
 * })
 */

/**
 * Steps named in a check: an id, a pattern in which `*` stands for any
 * characters (`"test-*"`, `"lint:*"`), or a list of these.
 */
export type Steps = string | ReadonlyArray<string>

/** How a step ended in a run; `"not run"` when it never ended (the run left it out, or stopped first). */
export type StepOutcome = "succeeded" | "cached" | "failed" | "skipped" | "cancelled" | "not run"

/** One step of one run, as a check sees it. */
export interface StepRecord {
  readonly id: string
  readonly status: StepOutcome
  /** Attempts started: 0 when it never started, above 1 when it was retried. */
  readonly attempts: number
  /** What it returned (undefined unless it succeeded). */
  readonly value: unknown
  /**
   * When its first attempt started and when it ended, as positions in the
   * run's sequence of events (not times: a loaded machine does not change
   * them); undefined when it never did.
   */
  readonly start: number | undefined
  readonly end: number | undefined
}

/**
 * One run, read-only. Each helper that answers `false` remembers which steps
 * made it so and why, and that becomes the finding's `steps` and message
 * when the check then returns `false`.
 *
 * Naming a step the workflow does not have (or a pattern that matches none)
 * is a definition problem, reported as such.
 */
export interface RunView {
  /** How the run ended. */
  readonly status: "succeeded" | "failed" | "cancelled"
  /** Every step of the workflow, in declaration order. */
  readonly steps: ReadonlyArray<StepRecord>
  /** One step. */
  step(id: string): StepRecord
  /** The ids `steps` names, in declaration order. */
  ids(steps: Steps): ReadonlyArray<string>
  /** Whether every step named succeeded (a cache hit counts). */
  succeeded(steps: Steps): boolean
  /** Whether every step `then` names that started did so after every step `first` names had started. */
  startedBefore(first: Steps, then: Steps): boolean
  /** Whether every step `then` names that started did so after every step `first` names had ended, however it ended. */
  endedBefore(first: Steps, then: Steps): boolean
  /** Whether every step `then` names that started did so after every step `first` names had succeeded. */
  succeededBefore(first: Steps, then: Steps): boolean
  /** The most of the steps named that ran at once (from first start to end). */
  maxRunning(steps: Steps): number
  /** Whether no two of the steps named ever ran at once. */
  exclusive(steps: Steps): boolean
}

/** What a check says: `true` or nothing when the promise held, `false` or why not when it did not (or a promise of that). */
export type InvariantResult = boolean | string | void | undefined | Promise<boolean | string | void | undefined>

/**
 * A named promise about every run. `steps`, when set, lists the steps or
 * patterns it names, so that a misspelt one is reported with the definition,
 * before anything runs (the ready-made ones in `weft/properties` set it).
 */
export interface Invariant {
  (run: RunView): InvariantResult
  readonly steps?: ReadonlyArray<string> | undefined
}

/** Whether `pattern` (an id, or with `*` for any characters) names `id`. */
export const matchesStep = (pattern: string, id: string): boolean => {
  if (!pattern.includes("*")) return pattern === id
  const parts = pattern.split("*")
  if (!id.startsWith(parts[0]!) || !id.endsWith(parts.at(-1)!)) return false
  let at = parts[0]!.length
  const last = id.length - parts.at(-1)!.length
  for (const part of parts.slice(1, -1)) {
    const found = id.indexOf(part, at)
    if (found === -1 || found + part.length > last) return false
    at = found + part.length
  }
  return at <= last
}

/** A `Steps` as a list. */
export const stepList = (steps: Steps): ReadonlyArray<string> => (typeof steps === "string" ? [steps] : steps)
