/**
 * How many steps run at once: two limits, one for every step (`concurrency`,
 * the slots) and one for command steps (`commandConcurrency`).
 *
 * A command uses a CPU while it runs (a compiler, a test runner), so more
 * commands than CPUs only share them. A function step mostly waits (an HTTP
 * call, a database), so limiting it to the CPU count leaves the machine idle:
 * a view fetching nine sources (critical path 167 ms) took 448 ms on 2 CPUs.
 *
 * Defaults, when neither the run nor the workflow sets them:
 * - commands: the CPU count (`os.availableParallelism()`);
 * - every step: {@link defaultFunctionConcurrency} (or the CPU count, if larger).
 * An explicit `concurrency` limits every step, commands included, as it
 * always has: `concurrency: 8` runs 8 commands at once on any machine.
 * `commandConcurrency` then limits commands alone, within it.
 *
 * A step is a command step when its declared runner is a command (`cmd`,
 * `sh`, a spec's `run: "…"`); a function that runs commands itself (or
 * returns one), an isolated step and a sub-workflow count as function steps.
 *
 * The command limit is a resource (`Resources.ts`) every command step holds
 * one of, added to the plan only when it can bind: the scheduler stays one
 * pure decision, and the ETA, which lays out `run:start`'s resources as the
 * engine does, sees it too.
 */
import { availableParallelism } from "node:os"
import { isCommand } from "../dsl/Command.ts"
import type { StepDef } from "../dsl/Step.ts"
import type { Plan } from "./Plan.ts"
import { planResources } from "./Resources.ts"

/**
 * How many steps run at once by default (function steps, in effect). High
 * enough that a fan-out over a few dozen APIs or files runs at once; low
 * enough not to open hundreds of sockets or file handles at the first level
 * of a large graph (Node's HTTP agents and most API clients queue beyond a
 * few dozen connections anyway).
 */
export const defaultFunctionConcurrency = 64

/** The resource command steps hold, one each; a workflow cannot declare it. */
export const commandsResource = "commands"

/** The two limits of a run. */
export interface ConcurrencyLimits {
  /** Steps of any kind running at once. */
  readonly slots: number
  /** Command steps running at once (never more than `slots`). */
  readonly commands: number
}

interface Given {
  readonly concurrency?: number | undefined
  readonly commandConcurrency?: number | undefined
}

/**
 * The run's limits: the run's options over the workflow's, over the defaults
 * from `cpus`.
 *
 * @example
 * resolveConcurrency({}, {}, 2) // => { slots: 64, commands: 2 }
 * resolveConcurrency({}, { concurrency: 8 }, 2) // => { slots: 8, commands: 8 }
 */
export const resolveConcurrency = (run: Given, wf: Given, cpus: number = availableParallelism()): ConcurrencyLimits => {
  const explicit = run.concurrency ?? wf.concurrency
  const commands = run.commandConcurrency ?? wf.commandConcurrency ?? explicit ?? cpus
  const slots = explicit ?? Math.max(defaultFunctionConcurrency, commands)
  return { slots, commands: Math.min(commands, slots) }
}

/** Whether a step counts against the command limit: its declared runner is a command. */
export const isCommandStep = (def: StepDef): boolean => isCommand(def.run)

/**
 * `plan` with the command limit as a resource, when it can bind (more
 * command steps than it allows, and fewer than the slots); else `plan`
 * itself, which keeps the scheduler on its plain, faster path.
 */
export const withCommandLimit = (plan: Plan, commands: number, slots: number): Plan => {
  if (commands >= slots) return plan
  let count = 0
  for (const def of plan.steps) if (isCommandStep(def)) count++
  if (count <= commands) return plan
  const capacity = { ...plan.workflow.options.resources, [commandsResource]: commands }
  const steps = plan.steps.map((def) => (isCommandStep(def) ? { resources: { ...def.resources, [commandsResource]: 1 } } : def))
  return { ...plan, resources: planResources(steps, capacity) }
}

/** Every resource of `plan` with its capacity, the command limit's included; `undefined` when there are none. */
export const capacitiesOf = (plan: Plan): Record<string, number> | undefined =>
  plan.resources === undefined ? undefined : Object.fromEntries(plan.resources.names.map((name, r) => [name, plan.resources!.capacity[r]!]))

/** What step `i` holds of `plan`'s resources, the command limit's included; `undefined` when nothing. */
export const demandOf = (plan: Plan, i: number): Record<string, number> | undefined => {
  const resources = plan.resources
  if (resources === undefined || resources.classOf[i] === 0) return undefined
  const k = resources.names.length
  const held: Record<string, number> = {}
  for (let r = 0; r < k; r++) if (resources.demand[i * k + r]! > 0) held[resources.names[r]!] = resources.demand[i * k + r]!
  return held
}
