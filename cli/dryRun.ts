/**
 * `weft run --dry-run`: the plan a run would follow, without running it.
 * Its durations are the ones the run itself would use (the plan built with
 * the history's medians, as `weft run` builds it, so `estimate`, history and
 * the dashboard's ETA agree), and it honours the reporter: text for people,
 * one JSON document for `--reporter json`.
 */
import { levels, stepInfos, type Plan } from "../runtime/Plan.ts"
import { criticalPath, formatDuration } from "../runtime/Summary.ts"

/** Where a step's expected duration came from: its `estimate`, the median of its recent runs, or nowhere yet. */
export type DurationSource = "estimate" | "history" | "unknown"

/** What `--dry-run --reporter json` prints. */
export interface DryRun {
  readonly workflow: string
  readonly concurrency: number
  /** Steps by dependency level: each level's steps may run in parallel, `atOnce` of them at a time. */
  readonly levels: ReadonlyArray<{ readonly level: number; readonly steps: ReadonlyArray<string>; readonly atOnce: number }>
  /** The longest chain by expected durations (a step with none counts 1 ms); `ms` is its length. */
  readonly criticalPath: { readonly steps: ReadonlyArray<string>; readonly ms: number }
  /** Each step's expected duration (ms, `null` when unknown) and where it came from. */
  readonly steps: ReadonlyArray<{ readonly id: string; readonly deps: ReadonlyArray<string>; readonly level: number; readonly expectedMs: number | null; readonly from: DurationSource }>
}

/**
 * The dry run of `plan`, which must have been made with the `durations` the
 * run would get: a step's expected duration is the plan's (so whichever of
 * `estimate` and history the engine prefers, this follows), and its source
 * is history when the plan's figure is the history's.
 */
export const dryRun = (plan: Plan, concurrency: number, durations: ReadonlyMap<string, number>): DryRun => {
  const level = levels(plan)
  const byLevel: Array<Array<string>> = []
  level.forEach((l, i) => (byLevel[l] ??= []).push(plan.ids[i]!))
  // The same rule the run's summary uses, here over expected instead of real durations.
  const { path, ms } = criticalPath(stepInfos(plan), (id) => plan.weight[plan.indexOf.get(id)!]!)
  return {
    workflow: plan.workflow.name,
    concurrency,
    levels: byLevel.map((steps, l) => ({ level: l, steps, atOnce: Math.min(steps.length, concurrency) })),
    criticalPath: { steps: path, ms },
    steps: plan.ids.map((id, i) => {
      const expected = plan.estimateMs[i]!
      const from: DurationSource = Number.isNaN(expected) ? "unknown" : durations.get(id) === expected ? "history" : "estimate"
      return { id, deps: plan.deps[i]!.map((d) => plan.ids[d]!), level: level[i]!, expectedMs: Number.isNaN(expected) ? null : expected, from }
    })
  }
}

const sources = (dry: DryRun, ids: ReadonlyArray<string>): string => {
  const from = new Set(dry.steps.filter((s) => ids.includes(s.id)).map((s) => s.from))
  return from.has("history") && from.has("estimate") ? "history and estimates" : from.has("history") ? "history" : "estimates"
}

/** The dry run as text. */
export const renderDryRun = (dry: DryRun): string => {
  const path = dry.criticalPath.steps
  const known = dry.steps.some((s) => path.includes(s.id) && s.from !== "unknown")
  return [
    `weft ▸ ${dry.workflow}: ${dry.steps.length} steps, concurrency ${dry.concurrency} (dry run: nothing runs)`,
    ...dry.levels.map(({ level, steps, atOnce }) => `  level ${level}: ${steps.join(", ")}${steps.length > 1 ? `   (${atOnce} at a time)` : ""}`),
    `  critical path: ${path.join(" → ")}${known ? ` (≈ ${formatDuration(dry.criticalPath.ms)} by ${sources(dry, path)})` : ` (${path.length} steps; no history or estimates yet)`}`,
    `  expected: ${dry.steps.map((s) => (s.expectedMs === null ? `${s.id} ?` : `${s.id} ${formatDuration(s.expectedMs)} (${s.from})`)).join(", ")}`,
    ""
  ].join("\n")
}
