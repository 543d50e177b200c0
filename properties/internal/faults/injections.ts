/**
 * Which faults `verify` injects, and where: each kind into a bounded number
 * of steps (every eligible step of a small workflow, a sample drawn from the
 * seed in a large one), so that a 50-step workflow costs a few dozen runs,
 * not hundreds, and the same seed injects the same faults.
 */
import * as fc from "fast-check"
import { isCommand } from "../../../dsl/Command.ts"
import type { Plan } from "../../../runtime/Plan.ts"

/** One fault to inject into one run. */
export type Injection =
  /** Every attempt of the step's body throws. */
  | { readonly fault: "throw"; readonly step: number }
  /** Every attempt's command gets SIGTERM once it has started (command steps only). */
  | { readonly fault: "sigterm"; readonly step: number }
  /** Every attempt hangs under a short timeout: a function step's body never ends, a command's ends with a long sleep. */
  | { readonly fault: "timeout"; readonly step: number }
  /** The run is cancelled once `after` steps have ended, then resumed. */
  | { readonly fault: "interrupt"; readonly after: number }

/** At most this many steps get each kind of step fault. */
export const stepsPerFault = 6
/** At most this many interrupt points are tried. */
export const interruptPoints = 3

const sample = (candidates: ReadonlyArray<number>, count: number, seed: number): ReadonlyArray<number> =>
  candidates.length <= count
    ? candidates
    : [...fc.sample(fc.shuffledSubarray([...candidates], { minLength: count, maxLength: count }), { seed, numRuns: 1 })[0]!].sort((a, b) => a - b)

/** The injections for `plan`, the same for the same seed. */
export const chooseInjections = (plan: Plan, seed: number): Array<Injection> => {
  const all = plan.ids.map((_, i) => i)
  const commands = all.filter((i) => isCommand(plan.steps[i]!.run))
  const injections: Array<Injection> = []
  for (const step of sample(all, stepsPerFault, seed)) injections.push({ fault: "throw", step })
  for (const step of sample(commands, stepsPerFault, seed + 1)) injections.push({ fault: "sigterm", step })
  for (const step of sample(all, stepsPerFault, seed + 2)) injections.push({ fault: "timeout", step })
  // After 1 to n-1 steps ended: after none, nothing ran; after all, nothing is left to interrupt.
  const points = Array.from({ length: Math.max(0, plan.ids.length - 1) }, (_, i) => i + 1)
  for (const after of sample(points, interruptPoints, seed + 3)) injections.push({ fault: "interrupt", after })
  return injections
}
