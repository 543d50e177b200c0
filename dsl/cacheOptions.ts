/** The `cache` option, of a workflow and of a step: its definition check, and what is in force for a step. */
import { suggestion } from "./didYouMean.ts"
import { toMillis } from "./duration.ts"
import type { CacheOptions } from "./Step.ts"
import { insideWeftFolder } from "./weftFolder.ts"

const keys = ["inputs", "env", "outputs", "key", "ttl"]

/** What is wrong with a `cache` option, or `undefined`. */
export const cacheProblem = (option: unknown): string | undefined => {
  if (option === undefined || typeof option === "boolean") return undefined
  if (typeof option !== "object" || option === null || Array.isArray(option)) {
    return `cache must be true, false or { inputs, env, outputs, key, ttl }, not ${JSON.stringify(option)}`
  }
  for (const key of Object.keys(option)) {
    if (!keys.includes(key)) return `unknown cache option "${key}".${suggestion(key, keys)}`
  }
  const o = option as Record<string, unknown>
  for (const list of ["inputs", "env", "outputs"]) {
    const value = o[list]
    if (value !== undefined && !(Array.isArray(value) && value.every((item) => typeof item === "string" && item !== ""))) {
      return `cache.${list} must be a list of ${list === "env" ? "variable names" : "globs"}, like ${list}: ["${list === "env" ? "NODE_ENV" : "src/**/*.ts"}"]`
    }
  }
  // A restore never writes inside `.weft/` (weft's own state), so such an
  // output could never come back: every run would miss. Say so up front.
  const own = (o.outputs as ReadonlyArray<string> | undefined)?.find(insideWeftFolder)
  if (own !== undefined) return `cache.outputs "${own}" is inside .weft/, weft's own folder, which a cache hit never restores into: write the step's outputs elsewhere`
  if (o.key !== undefined && typeof o.key !== "string" && typeof o.key !== "function") return "cache.key must be a string or a function of the inputs"
  if (o.ttl !== undefined) {
    const ms = toMillis(o.ttl)
    if (ms === undefined || ms <= 0) return `cache.ttl ${JSON.stringify(o.ttl)} is not a positive duration: use milliseconds or a string like "1 hour"`
  }
  return undefined
}

/** The output files a step declares (`cache.outputs`, its own or the workflow's): globs relative to the workflow's folder. */
export const declaredOutputs = (step: boolean | CacheOptions | undefined, workflow: boolean | CacheOptions | undefined): ReadonlyArray<string> =>
  resolveCacheOptions(step, workflow)?.outputs ?? []

/** A step's effective cache options: its own, else the workflow's; `undefined` when not cached. */
export const resolveCacheOptions = (
  step: boolean | CacheOptions | undefined,
  workflow: boolean | CacheOptions | undefined
): CacheOptions | undefined => {
  const option = step ?? workflow
  if (option === undefined || option === false) return undefined
  return option === true ? {} : option
}
