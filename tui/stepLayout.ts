/**
 * How a run's steps are laid out on screen, decided once at `run:start` from
 * the announced steps: each step's dependency level (0 for steps that wait for
 * nothing, else one more than its deepest dependency), the row order (by
 * level, then declaration order, so each level is a group), and the expected
 * critical path: the heaviest chain by estimates (a step with none weighs 1,
 * as the scheduler's ranks do), which without any estimates is the longest
 * chain of levels.
 */
import type { StepInfo } from "../runtime/Event.ts"
import { criticalPath } from "../runtime/Summary.ts"

export interface StepLayout {
  /** Per step (declaration index): its level. */
  readonly levels: ReadonlyArray<number>
  /** Declaration indices in row order. */
  readonly order: ReadonlyArray<number>
  /** The expected critical path's step ids. */
  readonly critical: ReadonlySet<string>
}

/** `estimateOf(info)`: the step's expected ms, or undefined when unknown. */
export const stepLayout = (steps: ReadonlyArray<StepInfo>, estimateOf: (info: StepInfo) => number | undefined): StepLayout => {
  const indexOf = new Map<string, number>()
  steps.forEach((s, i) => indexOf.set(s.id, i))
  const deps = steps.map((s) => s.deps.map((d) => indexOf.get(d)).filter((d): d is number => d !== undefined))
  const levels: Array<number> = []
  deps.forEach((ds, i) => {
    levels[i] = ds.reduce((max, d) => Math.max(max, (levels[d] ?? 0) + 1), 0)
  })
  const order = steps.map((_, i) => i).sort((a, b) => levels[a]! - levels[b]! || a - b)
  const estimates = steps.map(estimateOf)
  const weight = (id: string) => {
    const ms = estimates[indexOf.get(id)!]
    return ms === undefined || !(ms > 0) ? 1 : ms
  }
  return { levels, order, critical: new Set(criticalPath(steps, weight).path) }
}
