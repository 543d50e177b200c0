/**
 * What changed between two definitions of a workflow (before and after its
 * file was edited): the steps added, removed and changed. Pure.
 *
 * A step is unchanged only when that can be proven from its definition: its
 * command (argv, cwd, env), its options (needs, after, retry, timeout,
 * estimate, optional, its effective cache options) and, for a sub-workflow,
 * every step inside it. A function's source text alone proves nothing (a
 * helper it calls, in the edited module or one it imports, may have changed):
 * a function step is unchanged only when, besides the rest, the digests of
 * the source it depends on (`stepSources.ts`) exist before and after and are
 * equal. Without them it is always changed. Watch mode reruns changed steps;
 * it never keeps a result whose code may have changed.
 */
import { isCommand } from "../../dsl/Command.ts"
import type { StepDef } from "../../dsl/Step.ts"
import { isWorkflow, type Workflow } from "../../dsl/Workflow.ts"
import { resolveCacheOptions } from "../../dsl/cacheOptions.ts"
import { toMillis } from "../../dsl/duration.ts"

/** The steps added, removed and changed, by id, each in declaration order. */
export interface WorkflowDiff {
  readonly added: ReadonlyArray<string>
  readonly removed: ReadonlyArray<string>
  readonly changed: ReadonlyArray<string>
}

/**
 * The digest of the source a function step depends on, `undefined` when it
 * cannot be proven (see `makeStepDigest`).
 */
export type StepDigest = (def: StepDef) => string | undefined

/** The step digests of the workflow before the edit and after it. */
export interface DiffSources {
  readonly before: StepDigest
  readonly after: StepDigest
}

/** Marks a definition that cannot be proven unchanged. */
const unprovable = Symbol("unprovable")

/** Plain data for a value found in a definition; `unprovable` for code. */
const plainOf = (value: unknown): unknown => {
  if (value === undefined || value === null || typeof value !== "object") {
    return typeof value === "function" ? unprovable : typeof value === "bigint" ? `${value}n` : value ?? null
  }
  if (Array.isArray(value)) return value.map(plainOf)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) out[key] = plainOf((value as Record<string, unknown>)[key])
  return out
}

/** A duration as milliseconds when it is one, else as written. */
const durationOf = (value: unknown): unknown => (value === undefined ? null : toMillis(value) ?? plainOf(value))

const retryOf = (retry: StepDef["retry"]): unknown =>
  typeof retry === "object" && retry !== null
    ? { ...(plainOf(retry) as object), delay: durationOf(retry.delay), maxDelay: durationOf(retry.maxDelay) }
    : plainOf(retry)

/**
 * The cache options as data. A `cache.key` function is compared by its
 * source: it only decides what the cache may reuse, and a stale cache key is
 * the cache's concern, not a reason to distrust a kept result.
 */
const cacheOf = (def: StepDef, wf: Workflow<any>): unknown => {
  const options = resolveCacheOptions(def.cache, wf.options?.cache)
  if (options === undefined) return null
  const { key, ...rest } = options
  return { ...(plainOf(rest) as object), key: typeof key === "function" ? `function ${key.toString()}` : plainOf(key), ttl: durationOf(options.ttl) }
}

const runnerOf = (def: StepDef, digest: StepDigest | undefined): unknown => {
  const run = def.run
  if (isCommand(run)) return ["command", plainOf(run.argv), run.cwd ?? null, plainOf(run.env)]
  if (isWorkflow(run)) {
    const { cache: _cache, ...options } = run.options ?? {}
    return ["workflow", run.name, plainOf(options), run.steps.map((inner) => definitionOf(inner, run, undefined))]
  }
  const source = typeof run === "function" ? digest?.(def) : undefined
  return source === undefined ? unprovable : ["function", source]
}

/** A step's definition as data, or `unprovable` when it holds code not proven by `digest`. */
const definitionOf = (def: StepDef, wf: Workflow<any>, digest: StepDigest | undefined): unknown => [
  def.id,
  plainOf(def.needs),
  plainOf(def.after),
  def.optional,
  retryOf(def.retry),
  durationOf(def.timeout),
  durationOf(def.estimate),
  cacheOf(def, wf),
  plainOf(def.unknownOptions),
  runnerOf(def, digest)
]

/**
 * A stable text for a definition, or `undefined` when it holds code anywhere:
 * a function runner counts as data only through its source digest.
 */
export const fingerprint = (def: StepDef, wf: Workflow<any>, digest?: StepDigest): string | undefined => {
  let provable = true
  const text = JSON.stringify(definitionOf(def, wf, digest), (_key, value) => {
    if (value === unprovable) provable = false
    return value === unprovable ? null : value
  })
  return provable ? text : undefined
}

/**
 * Compares two definitions of a workflow step by step; `sources` lets
 * function steps be proven unchanged.
 *
 * @example
 * const { added, removed, changed } = diffWorkflows(before, after, { before: makeStepDigest(before, file, old), after: makeStepDigest(after, file, now) })
 */
export const diffWorkflows = (before: Workflow<any>, after: Workflow<any>, sources?: DiffSources): WorkflowDiff => {
  const old = new Map(before.steps.map((def) => [def.id, def]))
  const now = new Set(after.steps.map((def) => def.id))
  const added: Array<string> = []
  const changed: Array<string> = []
  for (const def of after.steps) {
    const was = old.get(def.id)
    if (was === undefined) {
      added.push(def.id)
      continue
    }
    const a = fingerprint(was, before, sources?.before)
    const b = fingerprint(def, after, sources?.after)
    // The workflow's own concurrency and failFast steer the run, not any step's result.
    if (a === undefined || b === undefined || a !== b) changed.push(def.id)
  }
  const removed = before.steps.map((def) => def.id).filter((id) => !now.has(id))
  return { added, removed, changed }
}
