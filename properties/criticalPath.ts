/**
 * The makespan of a model with unlimited slots, from the graph alone: every
 * step starts as soon as its dependencies end, so the run lasts as long as its
 * longest chain, each step counted with all its attempts and retry delays.
 *
 * Steps behind a failure that is not optional never run. With fail-fast, the
 * run ends at the earliest such failure.
 */
import { depsOf, succeeds, totalTimeOf, type WorkflowModel } from "./arbitraries.ts"

export const criticalPath = (model: WorkflowModel): number => {
  const finish: Array<number | undefined> = []
  let longest = 0
  let firstFatal = Infinity
  model.steps.forEach((step, i) => {
    const deps = depsOf(step)
    const blocked = deps.some((d) => finish[d] === undefined || (!succeeds(model.steps[d]!) && !model.steps[d]!.optional))
    if (blocked) return
    const end = deps.reduce((max, d) => Math.max(max, finish[d]!), 0) + totalTimeOf(step)
    finish[i] = end
    longest = Math.max(longest, end)
    if (!succeeds(step) && !step.optional) firstFatal = Math.min(firstFatal, end)
  })
  return model.failFast && firstFatal < Infinity ? firstFatal : longest
}
