/**
 * The check of `run()`'s options (and `compile()`'s): one table, an entry per
 * option. A bad option is a problem of a `DefinitionError` that names it and
 * says what to pass, reported with every other one before anything runs, as
 * for a bad workflow option: TypeScript catches most of these, but not for a
 * caller in JavaScript, nor a number read from a file or the environment.
 */
import { statSync } from "node:fs"
import { availableParallelism } from "node:os"
import { DefinitionError, type Problem } from "../dsl/DefinitionError.ts"
import { suggestion } from "../dsl/didYouMean.ts"
import { isRunId } from "./history/runId.ts"
import type { Workflow } from "../dsl/Workflow.ts"
import * as Plan from "./Plan.ts"
import { defaultFunctionConcurrency } from "./concurrency.ts"
import { sizeProblem } from "./cache/autoPrune.ts"
import { remoteSettingsProblem } from "./cache/remote/remoteSettings.ts"
import type { RunOptions } from "./Run.ts"

/**
 * What is wrong with one option's value and what to pass instead, or
 * `undefined` when it is fine (never called with `undefined`). The text
 * follows the option's name: " must be …", or ".keep must be …" for a field.
 */
type Check = (value: unknown) => string | ReadonlyArray<string> | undefined

/** A value as the message shows it: `NaN` and `Infinity` as themselves, a string quoted. */
const shown = (value: unknown): string =>
  typeof value === "number" || typeof value === "bigint" || typeof value === "symbol" || typeof value === "function"
    ? String(value)
    : JSON.stringify(value) ?? String(value)

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

const isWholeAtLeastOne = (value: unknown): boolean => typeof value === "number" && Number.isInteger(value) && value >= 1

const boolean = (value: unknown): string | undefined => (typeof value === "boolean" ? undefined : `must be true or false, not ${shown(value)}`)

const path = (what: string, example: string) => (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? undefined : `must be the path of ${what}, like "${example}", not ${shown(value)}`

const map = (of: string, example: string): Check => (value) =>
  value instanceof Map ? undefined : `must be a Map of ${of}, like ${example}, not ${shown(value)}`

const cacheModes = ["use", "force", "off"]
const cacheKeys = ["mode", "dir", "root", "file", "moduleTexts", "maxSize", "remote"]
const journalKeys = ["dir", "resume", "file", "keep"]

/** Problems inside an object option, field by field, in order. */
const fields = (value: Record<string, unknown>, keys: ReadonlyArray<string>, check: (key: string, field: unknown) => string | undefined): Array<string> => {
  const problems: Array<string> = []
  for (const [key, field] of Object.entries(value)) {
    if (!keys.includes(key)) problems.push(`.${key} is not an option (${keys.join(", ")}).${suggestion(key, keys)}`)
    else if (field !== undefined) {
      const problem = check(key, field)
      if (problem !== undefined) problems.push(`.${key} ${problem}`)
    }
  }
  return problems
}

const checks = {
  concurrency: (value) =>
    isWholeAtLeastOne(value)
      ? undefined
      : `must be a whole number of at least 1, not ${shown(value)}: pass one like { concurrency: 4 }, or leave it out for the workflow's own (else ${defaultFunctionConcurrency} steps, commands at most one per CPU)`,
  commandConcurrency: (value) =>
    isWholeAtLeastOne(value)
      ? undefined
      : `must be a whole number of at least 1, not ${shown(value)}: pass one like { commandConcurrency: 2 }, or leave it out for the workflow's own (else concurrency when set, else this machine's CPU count, ${availableParallelism()})`,
  cpus: (value) =>
    isWholeAtLeastOne(value) ? undefined : `must be a whole number of at least 1 (the CPUs the run may use), not ${shown(value)}`,
  failFast: boolean,
  cwd: (value) => {
    if (typeof value !== "string" || value === "") return `must be the path of a folder, like "packages/app", not ${shown(value)}`
    const stat = statSync(value, { throwIfNoEntry: false })
    return stat?.isDirectory() === true ? undefined : `: there is no folder ${value} to run in${stat === undefined ? "" : " (it is a file)"}; pass an existing folder, or leave it out for the current one`
  },
  reporter: (value) =>
    value === "plain" || value === "json" || value === "silent" || (isObject(value) && typeof value.onEvent === "function")
      ? undefined
      : `must be "plain", "json", "silent" or a reporter (an object with onEvent), not ${shown(value)}`,
  onEvent: (value) => (typeof value === "function" ? undefined : `must be a function called with each event, not ${shown(value)}`),
  journal: (value) => {
    if (typeof value === "boolean") return undefined
    if (!isPlainObject(value)) return `must be true, false or { dir, keep }, not ${shown(value)}`
    return fields(value, journalKeys, (key, field) =>
      key === "keep" ? (isWholeAtLeastOne(field) ? undefined : `must be a whole number of at least 1 (runs kept), not ${shown(field)}`)
      : key === "resume" ? boolean(field)
      : path(key === "dir" ? "a folder" : "a file", key === "dir" ? ".weft/runs" : "weft.ts")(field))
  },
  resume: boolean,
  cacheDir: path("a folder", ".weft/cache"),
  weftDir: path("a folder", ".weft"),
  cache: (value) => {
    if (!isPlainObject(value)) return `must be { mode, dir } (mode "use", "force" or "off"), not ${shown(value)}`
    return fields(value, cacheKeys, (key, field) =>
      key === "mode" ? (cacheModes.includes(field as string) ? undefined : `must be "use", "force" or "off", not ${shown(field)}`)
      : key === "moduleTexts" ? (field === "unknown" || field instanceof Map ? undefined : `must be a Map of file to text, or "unknown", not ${shown(field)}`)
      : key === "maxSize" ? sizeProblem(field)
      : key === "remote" ? remoteSettingsProblem(field)
      : path(key === "file" ? "a file" : "a folder", key === "file" ? "weft.ts" : ".weft/cache")(field))
  },
  runId: (value) =>
    typeof value === "string" && isRunId(value)
      ? undefined
      : `must be letters, digits, ".", "_" and "-" (at most 100; it names files), not ${shown(value)}: leave it out for a fresh one`,
  only: (value) =>
    Array.isArray(value) && value.every((id) => typeof id === "string")
      ? undefined
      : `must be a list of step ids, like ["build"], not ${shown(value)}`,
  durations: map("step id to milliseconds", `new Map([["build", 1200]])`),
  priority: map("step id to priority", `new Map([["build", 2]])`),
  signal: (value) =>
    isObject(value) && typeof value.aborted === "boolean" && typeof value.addEventListener === "function"
      ? undefined
      : `must be an AbortSignal (an AbortController's signal), not ${shown(value)}`,
  allowAll: boolean,
  history: boolean,
  stages: (value) =>
    Array.isArray(value) && value.every((stage) => typeof stage === "function")
      ? undefined
      : `must be a list of stages (functions of (step, next)), not ${shown(value)}`,
  executor: (value) =>
    isObject(value) && typeof value.name === "string" && typeof value.run === "function"
      ? undefined
      : `must be an executor ({ name, run(step) }, like localExecutor or isolatedExecutor), not ${shown(value)}`,
  keep: map("step id to { value, durationMs }", `new Map([["build", { value: "dist", durationMs: 1200 }]])`),
  rateLimiters: map("name to RateLimiter", "the enclosing run's"),
  file: path("a file", "weft.ts"),
  inspect: (value) =>
    typeof value === "function" || (isObject(value) && typeof value.next === "function")
      ? undefined
      : `must be a function or an observer (an object with next) of XState inspection events, not ${shown(value)}`
} satisfies Record<keyof RunOptions, Check>

const names = Object.keys(checks)

/**
 * The error for a run that cannot start because of its options, or
 * `undefined`. It lists the workflow's own problems too, after the options':
 * every problem at once.
 */
export const runOptionsError = (
  wf: Workflow<any>,
  options: object,
  settings: { readonly unknown: boolean; readonly skip?: ReadonlyArray<string> }
): DefinitionError | undefined => {
  const problems = runOptionProblems(options, settings)
  if (problems.length === 0) return undefined
  const file = (options as { readonly file?: unknown }).file
  return new DefinitionError({ file: typeof file === "string" ? file : undefined, workflow: wf.name, problems: [...problems, ...Plan.check(wf)] })
}

/**
 * What is wrong with `options`, each problem naming the option. `unknown`:
 * also report names that are not options (`run` does; `compile`, handed
 * `run`'s options, does not). `journal` is left out for `compile`, whose own
 * is the journal `run` opened.
 */
export const runOptionProblems = (options: object, settings: { readonly unknown: boolean; readonly skip?: ReadonlyArray<string> }): Array<Problem> => {
  const problems: Array<Problem> = []
  for (const [name, value] of Object.entries(options)) {
    if (settings.skip?.includes(name) === true || value === undefined) continue
    const check = (checks as Record<string, Check | undefined>)[name]
    if (check === undefined) {
      if (settings.unknown && name !== "services") problems.push({ message: `unknown run option "${name}".${suggestion(name, names)}` })
      continue
    }
    const found = check(value)
    for (const problem of found === undefined ? [] : typeof found === "string" ? [found] : found) {
      problems.push({ message: `run option ${name}${problem.startsWith(":") || problem.startsWith(".") ? "" : " "}${problem}` })
    }
  }
  return problems
}
