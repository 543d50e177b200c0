/** The `permissions` option, of a workflow and of a step: its definition check. What it grants is in runtime/permissions/. */
import { suggestion } from "./didYouMean.ts"
import { isSecret } from "./Permissions.ts"

const keys = ["env", "read", "write", "sandbox", "net", "isolate", "run"]

/** Every problem with a `permissions` option (a step's or the workflow's); empty when there is none. */
export const permissionsProblems = (option: unknown): Array<string> => {
  if (option === undefined) return []
  if (typeof option !== "object" || option === null || Array.isArray(option)) {
    return [`permissions must be an object like { env: ["API_URL", secret("API_TOKEN")] }, not ${JSON.stringify(option)}`]
  }
  const problems: Array<string> = []
  for (const key of Object.keys(option)) {
    if (!keys.includes(key)) problems.push(`unknown permissions option "${key}": the options are ${keys.join(", ")}.${suggestion(key, keys)}`)
  }
  for (const flag of ["sandbox", "net", "isolate"]) {
    const value = (option as Record<string, unknown>)[flag]
    if (value !== undefined && typeof value !== "boolean") {
      problems.push(`permissions.${flag} must be true or false, not ${describe(value)}`)
    }
  }
  if ((option as { net?: unknown }).net === true && (option as { sandbox?: unknown }).sandbox !== true && (option as { isolate?: unknown }).isolate !== true) {
    problems.push(`permissions.net only applies to sandboxed commands and isolated function steps: add sandbox: true or isolate: true, or remove net: true (without them the network is not restricted)`)
  }
  const run = (option as { run?: unknown }).run
  if (run !== undefined && typeof run !== "boolean" && !(Array.isArray(run) && run.every((p) => typeof p === "string" && p.trim() !== ""))) {
    problems.push(`permissions.run must be true, false or a list of programs, like run: ["git"], not ${describe(run)}`)
  } else if ((run === true || Array.isArray(run)) && (option as { isolate?: unknown }).isolate !== true) {
    problems.push(`permissions.run only applies to isolated function steps: add isolate: true, or remove run (without isolation starting processes is not restricted)`)
  }
  for (const field of ["read", "write"]) problems.push(...globsProblems(field, (option as Record<string, unknown>)[field]))
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

/** What is wrong with `permissions.read` or `permissions.write`: each entry a non-empty glob relative to the workflow's folder. */
const globsProblems = (field: string, globs: unknown): Array<string> => {
  if (globs === undefined) return []
  const example = field === "read" ? `read: ["src/**"]` : `write: ["dist/**"]`
  if (!Array.isArray(globs)) return [`permissions.${field} must be a list of globs relative to the workflow's folder, like ${example}, not ${describe(globs)}`]
  return globs.flatMap((glob) =>
    typeof glob === "string" && glob.trim() !== ""
      ? []
      : [`permissions.${field} lists ${describe(glob)}: each entry must be a non-empty glob relative to the workflow's folder, like ${example}`]
  )
}
