/**
 * How a broken promise under a fault is told: what was injected, in words,
 * and whose promise it was. A promise of the workflow's (an optional step's
 * dependents cope with its absence, a step gives the same result when it
 * runs twice) gets a fix in the workflow; one of weft's (a failed step is
 * not cached, a timed-out step's processes end) is a bug to report, unless
 * the run used the caller's own executor, which is then the first suspect.
 */
import type { FaultFinding } from "../../Finding.ts"
import type { Injection } from "./injections.ts"

/** Who keeps weft's side of the promises in these runs: weft, or the caller's executor by name. */
export interface Keeper {
  /** The executor's name when the caller gave one, else undefined (weft's own). */
  readonly executor?: string | undefined
  /** Replays the same injections: `verify`'s seed. */
  readonly seed: number
}

/** The fault, in words: "step \"build\" throws". */
export const describeFault = (injection: Injection, ids: ReadonlyArray<string>): string => {
  switch (injection.fault) {
    case "throw":
      return `step "${ids[injection.step]}" throws`
    case "sigterm":
      return `step "${ids[injection.step]}"'s command gets SIGTERM`
    case "timeout":
      return `step "${ids[injection.step]}" hangs until its timeout`
    case "interrupt":
      return `the run is interrupted once ${injection.after} step${injection.after === 1 ? " has" : "s have"} ended, then resumed`
  }
}

/** The fix for a broken promise of weft's. */
export const weftsFix = (keeper: Keeper): string => {
  const repro = `verify(wf, { faults: true, seed: ${keeper.seed} }) (weft verify --faults --seed ${keeper.seed})`
  return keeper.executor === undefined
    ? `nothing to change in your workflow: this promise is weft's, so this is a weft bug. Please report it with the workflow and ${repro}.`
    : `your executor "${keeper.executor}" keeps this promise for weft: check how it handles the fault (run again with the default executor to see whether it holds there). If it holds with yours removed too, it is a weft bug: report it with the workflow and ${repro}.`
}

/** A finding about `injection`. */
export const faultFinding = (
  injection: Injection,
  ids: ReadonlyArray<string>,
  promise: string,
  happened: string,
  fix: string
): FaultFinding => ({
  kind: "fault",
  fault: injection.fault,
  step: injection.fault === "interrupt" ? undefined : ids[injection.step],
  promise,
  message: `when ${describeFault(injection, ids)} (injected), the promise "${promise}" broke: ${happened}`,
  fix
})
