/**
 * The promises that must hold when one step's body fails (it throws, its
 * command gets SIGTERM, it hangs until its timeout), checked against one run
 * with that fault and a clean run. Pure: it sees only what the runs left.
 */
import type { Plan } from "../../../runtime/Plan.ts"
import type { FaultFinding } from "../../Finding.ts"
import { withDownstream } from "../../../runtime/watch/affected.ts"
import type { FaultRecord, StepFault } from "./faultingExecutor.ts"
import type { RunSeen } from "./faultRun.ts"
import { faultFinding, weftsFix, type Keeper } from "./report.ts"
import { statusOf, stepsSeen } from "./stepsSeen.ts"

export interface StepFaultCase {
  readonly fault: StepFault
  readonly step: number
  readonly plan: Plan
  /** The clean run's outcomes by step id (`observe`'s: status first). */
  readonly clean: ReadonlyMap<string, string>
  readonly seen: RunSeen
  readonly record: FaultRecord
  /** How long one attempt may take, the teardown included, before a timed-out step counts as late. */
  readonly attemptBoundMs: number
  readonly keeper: Keeper
  /** Command lines a run without faults leaves running too: the workflow means to leave them. */
  readonly deliberate: ReadonlySet<string>
}

const leftoversFix = (fault: StepFault, keeper: Keeper): string =>
  fault === "sigterm"
    ? `weft tears a command's processes down when it interrupts the step, not when the command dies on its own: make the command end what it starts when it is terminated (in sh: trap 'kill 0' TERM), or wait for it. If you expected weft to end them, report it with the workflow and the seed ${keeper.seed}.`
    : weftsFix(keeper)

export const stepFaultFindings = (c: StepFaultCase): Array<FaultFinding> => {
  const { plan, seen, keeper } = c
  const id = plan.ids[c.step]!
  const injection = { fault: c.fault, step: c.step }
  const found = (promise: string, happened: string, fix: string) => findings.push(faultFinding(injection, plan.ids, promise, happened, fix))
  const findings: Array<FaultFinding> = []
  const leftovers = seen.leftovers.filter((p) => !c.deliberate.has(p.command))
  if (leftovers.length > 0) {
    const named = leftovers.map((p) => `${p.pid} (${p.command})`).join(", ")
    found("no process is left behind", `still running after the run: ${named}`, leftoversFix(c.fault, keeper))
  }
  if (seen.hung || seen.result === undefined) {
    found("a failing step ends, and the run with it", `the run had not ended ${Math.round(c.attemptBoundMs / 1000)} s after it was due`, weftsFix(keeper))
    return findings
  }
  // A command that ended before it could be signalled had no fault to survive.
  if (c.fault === "sigterm" && c.record.injected === 0) return findings
  const { starts, ends } = stepsSeen(seen.events)
  const end = ends.get(id)
  const def = plan.steps[c.step]!

  if (end?.status !== "failed") {
    if (c.fault === "sigterm" && end?.status === "succeeded") {
      found(
        "a command killed by SIGTERM fails its step",
        `step "${id}" ended succeeded: its command exited 0 when terminated, so its unfinished work counts as done (and may be cached)`,
        `make step "${id}"'s command exit non-zero when it is terminated (in sh: trap 'exit 143' TERM), so that weft sees it did not finish.`
      )
    } else {
      found("a step whose body fails ends failed", `step "${id}" ended ${end?.status ?? "without a step:end"}`, weftsFix(keeper))
    }
  }
  if (seen.cached.has(id)) {
    found("nothing is cached from a failed step", `the cache holds an entry for step "${id}" after the run`, weftsFix(keeper))
  }
  const attempts = plan.retry[c.step]!.times + 1
  if (end?.status === "failed" && (starts.get(id) ?? 0) !== attempts) {
    found(`a step with retry: ${attempts - 1} runs ${attempts} attempts`, `step "${id}" started ${starts.get(id) ?? 0} attempt(s)`, weftsFix(keeper))
  }
  if (c.fault === "timeout") findings.push(...timeoutFindings(c, end?.error, end?.durationMs ?? 0, attempts))

  const downstream = withDownstream(plan, [id]).filter((d) => d !== id)
  if (!def.optional) {
    const ran = downstream.filter((d) => (starts.get(d) ?? 0) > 0)
    if (ran.length > 0) found("a failed step's dependents do not run", `${ran.map((d) => `"${d}"`).join(", ")} ran after "${id}" failed`, weftsFix(keeper))
    if (end?.status === "failed" && seen.result.status !== "failed") found("a failed step fails the run", `the run ended ${seen.result.status}`, weftsFix(keeper))
    return findings
  }
  // Optional: what fails now but not in the clean run failed because of it.
  const alsoFailed = plan.ids.filter((other) => other !== id && ends.get(other)?.status === "failed" && statusOf(c.clean.get(other)) !== "failed")
  for (const other of alsoFailed) {
    const needs = plan.steps[plan.indexOf.get(other)!]!.needs.includes(id)
    found(
      "an optional step's failure does not fail the run",
      `step "${other}" failed too${ends.get(other)?.error === undefined ? "" : `: ${ends.get(other)!.error}`}`,
      needs
        ? `step "${other}" receives undefined for "${id}" when "${id}" fails: handle it (for example \`${id} ?? fallback\`), or mark "${other}" optional too.`
        : `make step "${other}" work without what optional step "${id}" does, or mark "${other}" optional too.`
    )
  }
  if (alsoFailed.length === 0 && seen.result.status === "failed" && statusOf(c.clean.get(id)) !== "failed" && c.clean.size > 0 && [...c.clean.values()].every((o) => statusOf(o) !== "failed")) {
    found("an optional step's failure does not fail the run", "the run ended failed, and no other step failed", weftsFix(keeper))
  }
  return findings
}

const timeoutFindings = (c: StepFaultCase, error: string | undefined, durationMs: number, attempts: number): Array<FaultFinding> => {
  const id = c.plan.ids[c.step]!
  const injection = { fault: c.fault, step: c.step }
  const findings: Array<FaultFinding> = []
  const found = (promise: string, happened: string) => findings.push(faultFinding(injection, c.plan.ids, promise, happened, weftsFix(c.keeper)))
  if (error !== undefined && !error.includes("timed out")) found("a step that outlives its timeout fails timed out", `step "${id}" failed with: ${error}`)
  if (durationMs > attempts * c.attemptBoundMs) {
    found("a timed-out step ends within its timeout", `step "${id}" took ${Math.round(durationMs)} ms over ${attempts} attempt(s)`)
  }
  // The stand-in body of a function step counts its own finalizers; a command's are its processes, checked above.
  const { standIns, finalized, aborted } = c.record
  if (finalized < standIns) {
    found("an interrupted step's finalizers run", `the Effect finalizer of ${standIns - finalized} of ${standIns} timed-out attempt(s) of "${id}" did not run`)
  }
  if (aborted < standIns) {
    found("ctx.signal is aborted when a step is interrupted", `ctx.signal of ${standIns - aborted} of ${standIns} timed-out attempt(s) of "${id}" was not aborted`)
  }
  return findings
}
