/**
 * The `resources` option, of a workflow (capacities) and of a step (its
 * demand): their definition checks. What resources do is in
 * runtime/Resources.ts.
 */
import { suggestion } from "./didYouMean.ts"

type Amounts = Readonly<Record<string, number>> | undefined

const isAmount = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** What is wrong with a workflow's `resources`, if anything. */
export const capacityProblems = (capacity: unknown): Array<string> => {
  if (capacity === undefined) return []
  if (!isRecord(capacity)) return [`resources must map names to capacities, like resources: { db: 1 }, not ${JSON.stringify(capacity)}`]
  const problems: Array<string> = []
  for (const [name, amount] of Object.entries(capacity)) {
    if (name === "slots") problems.push(`resources cannot declare "slots": slots are the concurrency limit, set concurrency: ${JSON.stringify(amount)} instead`)
    else if (name === "commands") problems.push(`resources cannot declare "commands": it is the limit on command steps, set commandConcurrency: ${JSON.stringify(amount)} instead`)
    else if (!isAmount(amount)) problems.push(`resource "${name}" needs a whole-number capacity of at least 1, not ${JSON.stringify(amount)}`)
  }
  return problems
}

/** What is wrong with a step's `resources` against the workflow's capacities, if anything. */
export const demandProblems = (demand: unknown, capacity: Amounts): Array<string> => {
  if (!isRecord(demand)) return [`resources must map names to amounts, like resources: { db: 1 }, not ${JSON.stringify(demand)}`]
  const problems: Array<string> = []
  const declared = isRecord(capacity) ? capacity : {}
  for (const [name, amount] of Object.entries(demand)) {
    if (name === "slots" || name === "commands") {
      problems.push(name === "slots"
        ? `resources cannot ask for "slots": every step takes one slot, and the workflow's concurrency sets how many there are`
        : `resources cannot ask for "commands": every command step takes one, and the workflow's commandConcurrency sets how many there are`)
      continue
    }
    if (!isAmount(amount)) {
      problems.push(`resources: "${name}" must be a whole number of at least 1, not ${JSON.stringify(amount)}`)
      continue
    }
    const has = declared[name]
    if (has === undefined) {
      problems.push(`resources: "${name}" is not a resource of this workflow.${suggestion(name, Object.keys(declared))} Declare it: workflow(name, { resources: { ${name}: ${amount} } })`)
    } else if (isAmount(has) && amount > has) {
      problems.push(`resources: asks for ${amount} "${name}", but the workflow has only ${has}: lower the demand or raise resources.${name}`)
    }
  }
  return problems
}
