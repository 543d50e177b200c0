/** Checking `permissions` options, for the plan's definition check. */
import { isSecret } from "../../dsl/Permissions.ts"
import { suggestion } from "../../dsl/internal/didYouMean.ts"

const keys = ["env"]

/** Every problem with a `permissions` option (a step's or the workflow's); empty when there is none. */
export const permissionsProblems = (option: unknown): Array<string> => {
  if (option === undefined) return []
  if (typeof option !== "object" || option === null || Array.isArray(option)) {
    return [`permissions must be an object like { env: ["API_URL", secret("API_TOKEN")] }, not ${JSON.stringify(option)}`]
  }
  const problems: Array<string> = []
  for (const key of Object.keys(option)) {
    if (!keys.includes(key)) problems.push(`unknown permissions option "${key}": only env is supported.${suggestion(key, keys)}`)
  }
  const env = (option as { env?: unknown }).env
  if (env === undefined) return problems
  if (!Array.isArray(env)) {
    problems.push(`permissions.env must be a list of variable names, like env: ["API_URL", secret("API_TOKEN")], not ${JSON.stringify(env)}`)
    return problems
  }
  for (const entry of env) {
    const name = isSecret(entry) ? entry.name : entry
    if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push(
        `permissions.env lists ${describe(entry)}: each entry must be a variable name ("API_URL") or secret("API_TOKEN")`
      )
    }
  }
  return problems
}

const describe = (entry: unknown): string => {
  if (isSecret(entry)) return `secret(${JSON.stringify(entry.name)})`
  if (typeof entry === "string") return JSON.stringify(entry)
  if (typeof entry === "function") return "a function"
  try {
    return JSON.stringify(entry) ?? String(entry)
  } catch {
    return String(entry)
  }
}
