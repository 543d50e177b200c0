/**
 * What an order-dependence finding says: the message, the `after:` that
 * fixes it, and what the static race check says of the pair from their
 * declared paths, shown beside what actually differed.
 */
import type { Event } from "../../runtime/Event.ts"
import type { Plan } from "../../runtime/Plan.ts"
import type { OrderDependence } from "../Finding.ts"
import type { Blame } from "./blame.ts"
import type { Observation } from "./observe.ts"
import type { Schedule } from "./schedule.ts"
import { raceCheck } from "../../runtime/raceCheck.ts"

/**
 * The memoized function whose answer to `step` came from its own call in one
 * run and from another step's call in the other: when a step's result then
 * changed, the memo's key most likely leaves out an argument that changes
 * the result, and ordering the steps would only hide it.
 */
export const memoCulprit = (step: string, a: { readonly events: ReadonlyArray<Event> }, b: { readonly events: ReadonlyArray<Event> }): string | undefined => {
  const outcomes = (events: ReadonlyArray<Event>) => {
    const byName = new Map<string, Set<string>>()
    for (const e of events) {
      if (e.type !== "step:memo" || e.step !== step) continue
      const seen = byName.get(e.name) ?? new Set<string>()
      seen.add(e.outcome === "miss" ? "own" : "shared")
      byName.set(e.name, seen)
    }
    return byName
  }
  const [x, y] = [outcomes(a.events), outcomes(b.events)]
  for (const [name, mine] of x) {
    const theirs = y.get(name)
    if (theirs !== undefined && (mine.has("own") !== theirs.has("own") || mine.has("shared") !== theirs.has("shared"))) return name
  }
  return undefined
}

export const orderMessage = (step: string, pair: readonly [string, string] | undefined, memo?: string): string =>
  memo !== undefined && pair !== undefined
    ? `step "${step}" gave a different result when "${pair[0]}" and "${pair[1]}", which have no order between them, ran in the other order: its memoized call "${memo}" answered with another step's result in one run and made its own call in the other`
    : pair === undefined
    ? `step "${step}" gave a different result under another schedule, though no two unordered steps swapped`
    : `step "${step}" gave a different result when "${pair[0]}" and "${pair[1]}", which have no order between them, ran in the other order`

export const orderFix = (step: string, pair: readonly [string, string] | undefined, memo?: string): string => {
  if (memo !== undefined) {
    return `memo "${memo}" reuses one call's result for calls that should differ: its key (the key: option, or the arguments) leaves out something that changes the result; put every argument that changes the result in its key. (Ordering the steps would only hide it.)`
  }
  if (pair === undefined) {
    return `step "${step}" depends on timing (a clock, a random number, the network, or how many steps run beside it): make it deterministic.`
  }
  // The changed step in the pair waits for the other (it reads what the other
  // writes); otherwise the later-declared one waits for the earlier.
  const [waiter, first] = pair[0] === step ? pair : [pair[1], pair[0]]
  return `add after: ["${first}"] to step "${waiter}", so that it always runs after "${first}" (or needs: if it uses its value).`
}

/** The race check's word on the pair, from their declared paths; undefined when it sees no conflict between them. */
export const staticView = (plan: Plan, pair: readonly [string, string]): string | undefined => {
  const conflict = raceCheck(plan).conflicts.find((c) => (c.a === pair[0] && c.b === pair[1]) || (c.a === pair[1] && c.b === pair[0]))
  return conflict === undefined ? undefined : conflict.message
}

/**
 * The finding for a step whose result changed between the plain run and a
 * schedule's (`runs`, in that order); `seed` replays the search that drew
 * it, if one did.
 */
export const orderFinding = (
  plan: Plan,
  blamed: Blame,
  seed: number | undefined,
  schedules: readonly [Schedule, Schedule],
  runs: readonly [Observation, Observation]
): OrderDependence => {
  const step = plan.ids[blamed.step]!
  const pair = blamed.pair === undefined ? undefined : ([plan.ids[blamed.pair[0]]!, plan.ids[blamed.pair[1]]!] as const)
  const memo = memoCulprit(step, runs[0], runs[1])
  return {
    kind: "order-dependence",
    step,
    pair,
    seed,
    schedules,
    declared: pair === undefined ? undefined : staticView(plan, pair),
    message: orderMessage(step, pair, memo),
    fix: orderFix(step, pair, memo)
  }
}
