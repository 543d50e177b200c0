/**
 * Hazards by tracing, in one run: what `verify` finds from a single traced
 * run of the workflow, before any schedule is drawn (see `traceRun.ts` for
 * the run, `hazards.ts` and `cacheDeclarations.ts` for what is found).
 */
import { resolveCacheOptions } from "../../../dsl/cacheOptions.ts"
import type { Workflow } from "../../../dsl/Workflow.ts"
import type { Plan } from "../../../runtime/Plan.ts"
import type { Finding } from "../../Finding.ts"
import type { ObserveOptions } from "../observe.ts"
import type { Schedule } from "../schedule.ts"
import { cacheDeclarations } from "./cacheDeclarations.ts"
import { hazards } from "./hazards.ts"
import { traceRun, type TracedRun } from "./traceRun.ts"

export { straceProblem, straceProgram } from "./strace.ts"

export interface TraceFindings {
  readonly findings: ReadonlyArray<Finding>
  /** What could not be traced, for the user: strace missing, steps out of sight. */
  readonly warnings: ReadonlyArray<string>
}

export const traceFindings = async (wf: Workflow<any>, plan: Plan, schedule: Schedule, options: ObserveOptions): Promise<TraceFindings> => {
  const traced = await traceRun(wf, schedule, options)
  const untraced = new Set(traced.untraced.keys())
  const cached = plan.steps.map((s) => ({ id: s.id, cache: resolveCacheOptions(s.cache, wf.options.cache) }))
  return {
    findings: [...hazards(plan, traced.accesses), ...cacheDeclarations(cached, traced.accesses, untraced)],
    warnings: warningsOf(traced)
  }
}

const warningsOf = (traced: TracedRun): Array<string> => {
  const warnings: Array<string> = []
  const blind = [...traced.untraced].filter(([, why]) => why !== "strace cannot run here")
  const commands = [...traced.untraced].filter(([, why]) => why === "strace cannot run here").map(([id]) => `"${id}"`)
  if (commands.length > 0) {
    warnings.push(
      `strace cannot trace commands here (${traced.straceProblem ?? "unknown"}), so the files command steps ${commands.join(", ")} touch were not traced: ` +
        `their hazards and cache declarations are left to the schedules, which find them only by luck. Install strace (Debian/Ubuntu: apt-get install strace), or allow ptrace here.`
    )
  }
  if (blind.length > 0) {
    warnings.push(
      `not traced, so their hazards and cache declarations are left to the schedules: ${blind.map(([id, why]) => `step "${id}" (${why})`).join("; ")}.`
    )
  }
  return warnings
}
