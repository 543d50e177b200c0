/**
 * `verify`'s `faults: true`: each injection (`injections.ts`) in a run of
 * its own, in a throwaway copy, and the promises that must hold under it
 * checked against the clean run `verify` began with.
 */
import type { Workflow } from "../../../dsl/Workflow.ts"
import type { Executor } from "../../../runtime/Executor.ts"
import type { Plan } from "../../../runtime/Plan.ts"
import type { FaultFinding } from "../../Finding.ts"
import type { Observation } from "../observe.ts"
import { makeFaultingExecutor, type StepFault } from "./faultingExecutor.ts"
import { inWorkspace, runWithin, type FaultRunSettings } from "./faultRun.ts"
import { chooseInjections } from "./injections.ts"
import { interruptAndResume, resumeFindings } from "./resume.ts"
import { faultStages, injectedTimeoutMs } from "./stages.ts"
import { stepFaultFindings } from "./stepPromises.ts"

export interface FaultSettings extends FaultRunSettings {
  /** What bodies run in: `verify`'s executor. */
  readonly executor: Executor
  /** The caller's executor's name, when it gave one: then it, not weft, is the first suspect for weft's broken promises. */
  readonly custom?: string | undefined
  readonly outputs: ReadonlyMap<string, ReadonlyArray<string>>
  readonly seed: number
  /** Called after each run. */
  readonly onRun: () => void
  /** Told of an injection that could not be made, so that its promise is not taken as checked. */
  readonly onWarning: (text: string) => void
}

/** SIGTERM to SIGKILL (`Process.ts`), and room for a loaded machine. */
const teardownMs = 2000
const slackMs = 5000

export const checkFaults = async (wf: Workflow<any>, plan: Plan, clean: Observation, settings: FaultSettings): Promise<Array<FaultFinding>> => {
  const keeper = { executor: settings.custom, seed: settings.seed }
  // A fault run may take as long as every step one after another (SIGTERM
  // runs one at a time), a few times over, before it counts as hung.
  const serialMs = clean.events.reduce((sum, e) => sum + (e.type === "step:end" ? e.durationMs : 0), 0)
  const boundMs = 3 * serialMs + 30_000
  // What a run without faults leaves running, the workflow means to leave
  // (weft leaves a command's background processes when it exits by itself).
  const usual = await inWorkspace(settings, (workspace) => runWithin(wf, { ...workspace.options(settings.executor, faultStages()), journal: false }, boundMs))
  settings.onRun()
  const deliberate = new Set(usual.leftovers.map((p) => p.command))
  const findings: Array<FaultFinding> = []
  for (const injection of chooseInjections(plan, settings.seed)) {
    if (injection.fault === "interrupt") {
      const seen = await interruptAndResume(wf, injection.after, { ...settings, boundMs })
      settings.onRun()
      if (seen.resumed !== undefined) settings.onRun()
      findings.push(...resumeFindings(injection, plan, clean.outcomes, seen, keeper, deliberate))
      continue
    }
    const { step, fault } = injection
    const id = plan.ids[step]!
    const attemptBoundMs = Math.min(plan.timeoutMs[step] ?? injectedTimeoutMs, injectedTimeoutMs) + teardownMs + slackMs
    const attempts = plan.retry[step]!.times + 1
    const faulting = makeFaultingExecutor(settings.executor, id, fault as StepFault)
    const seen = await inWorkspace(settings, (workspace) =>
      runWithin(wf, {
        ...workspace.options(faulting.executor, faultStages(fault === "timeout" ? id : undefined)),
        // One step at a time: the command that appears is the step's.
        concurrency: fault === "sigterm" ? 1 : undefined,
        journal: false
      }, boundMs + attempts * attemptBoundMs)
    )
    settings.onRun()
    if (fault === "sigterm" && faulting.record.injected === 0) {
      settings.onWarning(`faults: step "${id}" was not sent SIGTERM: its command ended before it could be signalled (within about 100 ms), so what a terminated "${id}" does was not checked`)
    }
    findings.push(...stepFaultFindings({ fault, step, plan, clean: clean.outcomes, seen, record: faulting.record, attemptBoundMs, keeper, deliberate }))
  }
  // The same promise broken the same way at several points is one finding.
  const seen = new Set<string>()
  return findings.filter((f) => {
    const key = `${f.fault} ${f.step} ${f.message.slice(f.message.indexOf("broke: "))}`
    return seen.has(key) ? false : (seen.add(key), true)
  })
}
