/**
 * The interrupt fault: a run with its journal on is cancelled once `after`
 * steps have ended, then resumed in the same folder, and what it gives is
 * compared with a clean run's. Steps are at least once: one interrupted
 * midway runs again on resume, and must give the same result when it does.
 */
import type { Workflow } from "../../../dsl/Workflow.ts"
import type { Executor } from "../../../runtime/Executor.ts"
import type { Plan } from "../../../runtime/Plan.ts"
import type { FaultFinding } from "../../Finding.ts"
import { outcomesOf } from "../observe.ts"
import { inWorkspace, runWithin, type FaultRunSettings, type RunSeen } from "./faultRun.ts"
import type { Injection } from "./injections.ts"
import { faultFinding, weftsFix, type Keeper } from "./report.ts"
import { faultStages } from "./stages.ts"
import { statusOf, stepsSeen } from "./stepsSeen.ts"

export interface ResumeSettings extends FaultRunSettings {
  readonly executor: Executor
  /** By step id: the output globs it declares. */
  readonly outputs: ReadonlyMap<string, ReadonlyArray<string>>
  readonly boundMs: number
}

/** Both runs, and the resumed one's outcomes (`observe`'s form). */
export interface ResumeSeen {
  readonly interrupted: RunSeen
  readonly resumed: RunSeen | undefined
  readonly outcomes: ReadonlyMap<string, string>
}

export const interruptAndResume = (wf: Workflow<any>, after: number, settings: ResumeSettings): Promise<ResumeSeen> =>
  inWorkspace(settings, async (workspace) => {
    const base = workspace.options(settings.executor, faultStages())
    const controller = new AbortController()
    let ended = 0
    const interrupted = await runWithin(wf, {
      ...base,
      journal: true,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === "step:end" && ++ended === after) controller.abort()
      }
    }, settings.boundMs)
    if (interrupted.result === undefined) return { interrupted, resumed: undefined, outcomes: new Map() }
    const resumed = await runWithin(wf, { ...base, journal: true, resume: true }, settings.boundMs)
    return { interrupted, resumed, outcomes: resumed.result === undefined ? new Map() : outcomesOf(resumed.result, workspace.dir, settings.outputs) }
  })

/** A replay and a run of the same step agree: compare what they gave, not how. */
const sameResult = (a: string | undefined, b: string | undefined): boolean =>
  statusOf(a) === statusOf(b) && a?.slice(a.indexOf(" ")) === b?.slice(b.indexOf(" "))

export const resumeFindings = (
  injection: Extract<Injection, { readonly fault: "interrupt" }>,
  plan: Plan,
  clean: ReadonlyMap<string, string>,
  seen: ResumeSeen,
  keeper: Keeper,
  deliberate: ReadonlySet<string>
): Array<FaultFinding> => {
  const findings: Array<FaultFinding> = []
  const found = (promise: string, happened: string, fix: string) => findings.push(faultFinding(injection, plan.ids, promise, happened, fix))
  for (const [which, run] of [["interrupted", seen.interrupted], ["resumed", seen.resumed]] as const) {
    if (run === undefined) continue
    if (run.hung) found(`the ${which} run ends`, "it had not ended long after it was due, and was cancelled", weftsFix(keeper))
    const leftovers = run.leftovers.filter((p) => !deliberate.has(p.command))
    if (leftovers.length > 0) {
      found("no process is left behind", `still running after the ${which} run: ${leftovers.map((p) => `${p.pid} (${p.command})`).join(", ")}`, weftsFix(keeper))
    }
  }
  const first = stepsSeen(seen.interrupted.events)
  const cut = plan.ids.filter((id) => (first.starts.get(id) ?? 0) > 0 && first.ends.get(id)?.status === "cancelled")
  for (const id of cut) {
    if (seen.interrupted.cached.has(id)) found("nothing is cached from an interrupted step", `the cache holds an entry for step "${id}", which was interrupted`, weftsFix(keeper))
  }
  if (seen.resumed?.result === undefined) return findings
  const again = stepsSeen(seen.resumed.events)
  for (const id of plan.ids) {
    if (sameResult(clean.get(id), seen.outcomes.get(id))) continue
    const reran = (again.starts.get(id) ?? 0) > 0
    const how = cut.includes(id) ? "it was interrupted midway, and ran again on resume" : reran ? "it ran on resume" : "its result was replayed from the interrupted run's journal"
    found(
      "a resumed run's results equal a clean run's",
      `step "${id}" gave a different result (${statusOf(seen.outcomes.get(id))}, its value or declared output files differ) than in a clean run (${statusOf(clean.get(id))}): ${how}`,
      reran
        ? `steps run at least once: an interrupted step runs again on resume, and "${id}" must give the same result when it does. Keep what it writes among its cache.outputs and do not count on files or state outside them (a counter, an append, a file it moves away).`
        : `a replay gives what the step gave before; if "${id}"'s result depends on time or chance, make it deterministic (verify's order checks would say so too). Otherwise: ${weftsFix(keeper)}`
    )
  }
  return findings
}
