/**
 * The life of one step in one run.
 *
 * ```
 *            deps ended ok            body starts          body returns
 *  pending ───────────────▶ ready ─────────────▶ running ───────────────▶ succeeded
 *     │                     │  │                    │ ╲
 *     │ a need failed       │  │ run cancelled      │  ╲ body failed (after retries)
 *     ▼                     │  ▼                    ▼   ▼
 *  skipped                  │ cancelled         cancelled failed
 *                           │ cache hit
 *                           ▼
 *                         cached
 * ```
 *
 * `pending` and `ready` may also end `cancelled` when the run stops early
 * (fail-fast or Ctrl-C). A cache hit ends a ready step `cached` without it
 * ever running. `succeeded`, `cached`, `failed`, `skipped` and `cancelled` are
 * final: a step ends exactly once.
 */
export type StepStatus =
  | "pending"
  | "ready"
  | "running"
  | "succeeded"
  | "cached"
  | "failed"
  | "skipped"
  | "cancelled"

/** The statuses a step can end in. */
export type EndStatus = "succeeded" | "cached" | "failed" | "skipped" | "cancelled"

/** Whether a step that ended so lets its dependents run with its output. */
export const isSuccess = (status: StepStatus): boolean => status === "succeeded" || status === "cached"

const allowed: Record<StepStatus, ReadonlyArray<StepStatus>> = {
  pending: ["ready", "skipped", "cancelled"],
  ready: ["running", "cached", "failed", "cancelled"],
  running: ["succeeded", "failed", "cancelled"],
  succeeded: [],
  cached: [],
  failed: [],
  skipped: [],
  cancelled: []
}

/** Whether a step in `status` has ended. */
export const isFinal = (status: StepStatus): status is EndStatus => allowed[status].length === 0

/** Whether `from → to` is a legal transition; anything else is a bug in weft. */
export const canTransition = (from: StepStatus, to: StepStatus): boolean => allowed[from].includes(to)
