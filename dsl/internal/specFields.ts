/**
 * The fields of a spec's step that only a spec has (the builder's types hold
 * them): its references and its command's `cwd` and `env`, each checked for
 * its type before anything reads it, with a message that names the field.
 */
import type { Problem } from "../DefinitionError.ts"
import { stepOptions } from "../options.ts"
import { show } from "../show.ts"

/**
 * The step ids a `needs` or `after` field lists, the field's problems (its
 * row of the option table's) reported: the ids among what is written, so the
 * spec can resolve them whatever else is wrong.
 */
export const refsOf = (field: "needs" | "after", value: unknown, step: string, problems: Array<Problem>): ReadonlyArray<string> => {
  if (value === undefined) return []
  const found = stepOptions[field].check(value, {})
  // The usual case: the list as written, not a copy (100,000 of them in a big spec).
  if (found.length === 0) return value as ReadonlyArray<string>
  for (const message of found) problems.push({ step, message })
  return Array.isArray(value) ? value.filter((ref): ref is string => typeof ref === "string") : []
}

/** Problems of a step's `cwd` and `env`, which only a command takes. */
export const commandFieldProblems = (step: { readonly cwd?: unknown; readonly env?: unknown }, isCommandText: boolean): Array<string> => {
  const problems: Array<string> = []
  const { cwd, env } = step
  if (cwd !== undefined && (typeof cwd !== "string" || cwd === "")) {
    problems.push(`cwd must be a folder (a string, relative to the workflow's folder), not ${show(cwd)}`)
  }
  if (env !== undefined) {
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      problems.push(`env must be a map of variable names to strings, like env: { NODE_ENV: "test" }, not ${show(env)}`)
    } else {
      for (const [name, value] of Object.entries(env)) {
        if (typeof value !== "string") problems.push(`env.${name} must be a string, like ${name}: "${typeof value === "number" ? value : "value"}", not ${show(value)}`)
      }
    }
  }
  if (!isCommandText) {
    for (const field of ["cwd", "env"] as const) {
      if (step[field] !== undefined) problems.push(`${field} applies only to a command (run as a string or an argv list); a function or a workflow step sets its own`)
    }
  }
  return problems
}
