/**
 * What an order-dependence finding says: the message, the `after:` that
 * fixes it, and what the static race check says of the pair from their
 * declared paths, shown beside what actually differed.
 */
import type { Plan } from "../../runtime/Plan.ts"
import { raceCheck } from "../../runtime/raceCheck.ts"

export const orderMessage = (step: string, pair: readonly [string, string] | undefined): string =>
  pair === undefined
    ? `step "${step}" gave a different result under another schedule, though no two unordered steps swapped`
    : `step "${step}" gave a different result when "${pair[0]}" and "${pair[1]}", which have no order between them, ran in the other order`

export const orderFix = (step: string, pair: readonly [string, string] | undefined): string => {
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
