/**
 * What the forecast simulates a run on, fixed for the run and built once at
 * `run:start`: the steps' graph, their estimates, the engine's priority, and
 * the rate limits and resources that hold steps back besides slots.
 *
 * @example
 * const graph = makeEtaGraph([[], [0], [0]], [10, 20, 30])
 * graph.rank // => [40, 20, 30]: each step's longest weighted path to the end
 */
import type { EventOf, RateLimitInfo, StepInfo } from "../Event.ts"
import { longestPaths } from "../Plan.ts"
import { planResources, type ResourcePlan } from "../Resources.ts"

/** The steps' graph and estimates. */
export interface EtaGraph {
  readonly deps: ReadonlyArray<ReadonlyArray<number>>
  readonly dependents: ReadonlyArray<ReadonlyArray<number>>
  /** Each step's estimate (ms); NaN when unknown. */
  readonly estimateMs: Float64Array
  /** The engine's priority: longest path to the end, weighing each step by its estimate, else 1 (as `Plan.make` does). */
  readonly rank: Float64Array
  /** The run's rate limits and resources, when it has any (`withLimits`). */
  readonly limits?: EtaLimits | undefined
}

/** What holds steps back besides slots, as `run:start` announces it. */
export interface EtaLimits {
  /** The rate limits, by index. */
  readonly rateLimits: ReadonlyArray<RateLimitInfo & { readonly name: string }>
  /** Each step's rate limit (an index of `rateLimits`), -1 for none. */
  readonly rateLimitOf: Int32Array
  /** The resources, laid out as the engine lays them out; `undefined` when there are none. */
  readonly resources: ResourcePlan | undefined
}

/** What `run:start` says of rate limits and resources: the workflow's, and each step's. */
export interface EtaLimitsInfo {
  readonly rateLimits?: Readonly<Record<string, RateLimitInfo>> | undefined
  readonly resources?: Readonly<Record<string, number>> | undefined
  /** In declaration order, as the graph's steps. */
  readonly steps: ReadonlyArray<Pick<StepInfo, "rateLimit" | "resources">>
}

/** The graph of steps `0..n-1`: `deps[i]` are earlier steps, `estimates[i]` ms or undefined. */
export const makeEtaGraph = (deps: ReadonlyArray<ReadonlyArray<number>>, estimates: ReadonlyArray<number | undefined>): EtaGraph => {
  const n = deps.length
  const dependents: Array<Array<number>> = Array.from({ length: n }, () => [])
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]!.push(i)))
  const estimateMs = new Float64Array(n)
  const weight = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const ms = estimates[i]
    estimateMs[i] = ms === undefined || !(ms >= 0) ? NaN : ms
    weight[i] = ms === undefined || !(ms > 0) ? 1 : ms
  }
  return { deps, dependents, estimateMs, rank: longestPaths(dependents, weight) }
}

/** `graph` under the run's rate limits and resources; `graph` itself when it has neither (the plain, faster simulation). */
export const withLimits = (graph: EtaGraph, info: EtaLimitsInfo): EtaGraph => {
  const names = Object.keys(info.rateLimits ?? {})
  // The engine's own layout: only `resources` of each step is read.
  const resources = planResources(info.steps, info.resources)
  if (names.length === 0 && resources === undefined) return graph
  const index = new Map(names.map((name, l) => [name, l]))
  const rateLimitOf = Int32Array.from(info.steps, (s) => (s.rateLimit === undefined ? -1 : index.get(s.rateLimit) ?? -1))
  const rateLimits = names.map((name) => ({ name, limit: info.rateLimits![name]!.limit, perMs: info.rateLimits![name]!.perMs }))
  return { ...graph, limits: { rateLimits, rateLimitOf, resources } }
}

/**
 * The graph `run:start` announces, with its limits: each step's estimate is
 * `estimateOf(step)` (by default the one announced; the dashboard adds the
 * history's).
 */
export const etaGraphOf = (
  event: EventOf<"run:start">,
  estimateOf: (step: StepInfo) => number | undefined = (step) => step.estimateMs
): EtaGraph => {
  const indexOf = new Map<string, number>()
  event.steps.forEach((s, i) => indexOf.set(s.id, i))
  const deps = event.steps.map((s) => s.deps.flatMap((d) => indexOf.get(d) ?? []))
  return withLimits(makeEtaGraph(deps, event.steps.map(estimateOf)), event)
}
