/**
 * The `rateLimits` option of a workflow and the `rateLimit` option of a step:
 * their definition checks. What a limit does is in runtime/RateLimiter.ts.
 */
import { suggestion } from "./didYouMean.ts"
import { toMillis } from "./duration.ts"

/** What is wrong with one of `rateLimits`, written for the workflow's author; `undefined` when nothing is. */
export const rateLimitProblem = (name: string, option: unknown): string | undefined => {
  const example = `rateLimits: { ${JSON.stringify(name)}: { limit: 3, per: "1 second" } }`
  if (typeof option !== "object" || option === null) return `rate limit "${name}" must be { limit, per }, like ${example}`
  const { limit, per } = option as { limit?: unknown; per?: unknown }
  if (!Number.isInteger(limit) || (limit as number) < 1) {
    return `rate limit "${name}": limit must be a whole number of at least 1 (starts per window), not ${JSON.stringify(limit)}, like ${example}`
  }
  const ms = toMillis(per)
  if (ms === undefined || !(ms > 0) || ms === Infinity) {
    return `rate limit "${name}": per must be a positive duration (milliseconds or a string like "1 second"), not ${JSON.stringify(per)}`
  }
  return undefined
}

/** Every problem of a workflow's `rateLimits` option. */
export const rateLimitsProblems = (option: unknown): Array<string> => {
  if (option === undefined) return []
  if (typeof option !== "object" || option === null || Array.isArray(option)) {
    return [`rateLimits must name each limit, like rateLimits: { openai: { limit: 3, per: "1 second" } }, not ${JSON.stringify(option)}`]
  }
  const problems: Array<string> = []
  for (const [name, limit] of Object.entries(option)) {
    const problem = rateLimitProblem(name, limit)
    if (problem !== undefined) problems.push(problem)
  }
  return problems
}

/** What is wrong with a step's `rateLimit`, given the workflow's `rateLimits`; `undefined` when nothing is. */
export const stepRateLimitProblem = (name: unknown, limits: unknown): string | undefined => {
  const names = typeof limits === "object" && limits !== null ? Object.keys(limits) : []
  if (typeof name !== "string") return `rateLimit must name one of the workflow's rateLimits, like rateLimit: "openai", not ${JSON.stringify(name)}`
  if (names.includes(name)) return undefined
  if (names.length === 0) {
    return `rateLimit "${name}", but the workflow has no rateLimits: declare it, like workflow("…", { rateLimits: { ${JSON.stringify(name)}: { limit: 3, per: "1 second" } } })`
  }
  return `rateLimit "${name}", which is not one of the workflow's rateLimits (${names.map((n) => JSON.stringify(n)).join(", ")}).${suggestion(name, names)}`
}
