/**
 * The static race check: steps that may run at the same time (neither waits
 * for the other, directly or transitively, through `needs`/`after`) and that
 * declare overlapping files, both writing them or one writing what the other
 * reads. Writes are `permissions.write` and `cache.outputs`; reads are
 * `permissions.read` and `cache.inputs`. Pure: it reads the plan, never the
 * disk.
 */
import type { StepDef } from "../dsl/Step.ts"
import { resolveCacheOptions } from "../dsl/cacheOptions.ts"
import type { Plan } from "./Plan.ts"

/** Two steps that may race on a path. */
export interface Conflict {
  /** The step declared first. */
  readonly a: string
  readonly b: string
  /** `write/write`: both write it; `write/read`: `writer` writes what the other reads. */
  readonly kind: "write/write" | "write/read"
  /** The writer, for `write/read`. */
  readonly writer?: string | undefined
  /** The path both globs may match (the shorter literal prefix). */
  readonly path: string
  readonly globA: string
  readonly globB: string
  /** What `weft graph --check` prints and `run:warning` says. */
  readonly message: string
}

export interface RaceCheck {
  readonly conflicts: ReadonlyArray<Conflict>
  /** False when the graph was too large to finish within `maxVisits`: the conflicts found so far are reported. */
  readonly complete: boolean
}

/** Graph nodes a check may visit in all (about a second's work at most). */
const defaultMaxVisits = 20_000_000

/** A declared glob, normalised once: the part before its first glob character. */
interface Glob {
  readonly glob: string
  readonly prefix: string
  /** No glob character: `prefix` is the whole path. */
  readonly literal: boolean
}

interface Paths {
  readonly write: ReadonlyArray<Glob>
  readonly read: ReadonlyArray<Glob>
}

const none: Paths = { write: [], read: [] }

/** A step's declared paths: its own `permissions` replace the workflow's, as for `env`. */
const pathsOf = (def: StepDef, wf: Plan["workflow"]): Paths => {
  const permissions = def.permissions ?? wf.options?.permissions
  const cache = resolveCacheOptions(def.cache, wf.options?.cache)
  const write = globs(permissions?.write, cache?.outputs)
  const read = globs(permissions?.read, cache?.inputs)
  return write.length === 0 && read.length === 0 ? none : { write, read }
}

const noGlobs: ReadonlyArray<Glob> = []

const globs = (mine: ReadonlyArray<string> = [], cached: ReadonlyArray<string> = []): ReadonlyArray<Glob> =>
  mine.length + cached.length === 0 ? noGlobs : [...mine, ...cached].map(normalize)

const globChars = /[*?[\]{}!()]/

/** A glob's literal prefix, without a leading `./` or doubled slashes. */
const normalize = (glob: string): Glob => {
  const clean = glob.startsWith("./") || glob.includes("//") ? glob.replace(/^(\.\/)+/, "").replace(/\/{2,}/g, "/") : glob
  const at = clean.search(globChars)
  if (at !== -1) return { glob, prefix: clean.slice(0, at), literal: false }
  return { glob, prefix: clean.endsWith("/") ? clean.slice(0, -1) : clean, literal: true }
}

const under = (path: string, folder: string) => folder === "" || path === folder || path.startsWith(folder.endsWith("/") ? folder : folder + "/")

const overlapOf = (a: Glob, b: Glob): string | undefined => {
  const [short, long] = a.prefix.length <= b.prefix.length ? [a, b] : [b, a]
  const shown = (p: string) => (p === "" ? "." : p)
  if (short.literal) return under(long.prefix, short.prefix) ? shown(short.prefix) : undefined
  // `short` is a glob: it may match anything starting with its prefix.
  return long.prefix.startsWith(short.prefix) ? shown(short.prefix) : undefined
}

/**
 * The path two globs may both match, or `undefined` when they cannot. Sound
 * and simple: two literal paths overlap when equal or one is a folder of the
 * other; a glob may match anything that starts with its literal prefix. So
 * globs can overlap only when one's prefix starts with the other's.
 */
export const overlap = (x: string, y: string): string | undefined => overlapOf(normalize(x), normalize(y))

interface Found {
  readonly x: string
  readonly y: string
  readonly path: string
}

/** The first overlap between `xs` and `ys`, as the two globs and the shared path. */
const firstOverlap = (xs: ReadonlyArray<Glob>, ys: ReadonlyArray<Glob>): Found | undefined => {
  for (const x of xs) {
    for (const y of ys) {
      const path = overlapOf(x, y)
      if (path !== undefined) return { x: x.glob, y: y.glob, path }
    }
  }
  return undefined
}

/** A writer and the steps whose paths overlap its writes, in the order they are reported. */
interface Touching {
  readonly w: number
  readonly others: ReadonlyArray<{ readonly o: number; readonly ww: Found | undefined; readonly wr: Found | undefined }>
}

/** Writers whose order with the steps they touch is settled in one pass over the graph: 32 per bitset word. */
const writersPerPass = 1024

/**
 * Every pair of steps that may run at the same time and touch the same
 * files, each pair once, grouped by writer in declaration order.
 *
 * Overlapping globs share a prefix (see `overlap`), so each writer finds the
 * steps it touches in an index of every declared prefix, sorted: those
 * before its own prefix and those that start with it. Whether two such
 * steps are ordered is then read from bitsets filled in one pass over the
 * graph in each direction, for up to `writersPerPass` writers at a time, so
 * a 10,000-step chain with 100 writers costs two passes, not a search of
 * the chain per writer. The work is bounded by `maxVisits` (index entries
 * and graph nodes visited); beyond it the conflicts found so far are
 * reported with `complete: false`.
 */
export const raceCheck = (
  plan: Pick<Plan, "workflow" | "steps" | "ids" | "deps" | "dependents">,
  options: { readonly maxVisits?: number } = {}
): RaceCheck => {
  const n = plan.steps.length
  const paths = new Array<Paths>(n)
  const declaring: Array<number> = []
  for (let i = 0; i < n; i++) {
    paths[i] = pathsOf(plan.steps[i]!, plan.workflow)
    if (paths[i] !== none) declaring.push(i)
  }
  // Every declared prefix, with the steps declaring it in declaration order.
  const byPrefix = new Map<string, Array<number>>()
  const index = (i: number, globs: ReadonlyArray<Glob>) => {
    for (const { prefix } of globs) {
      const list = byPrefix.get(prefix)
      if (list === undefined) byPrefix.set(prefix, [i])
      else if (list.at(-1) !== i) list.push(i)
    }
  }
  for (const i of declaring) {
    index(i, paths[i]!.write)
    index(i, paths[i]!.read)
  }
  const prefixes = [...byPrefix.keys()].sort()
  const lengths = [...new Set(prefixes.map((p) => p.length))].sort((a, b) => a - b)

  const conflicts: Array<Conflict> = []
  const pairs = new Set<string>()
  let budget = options.maxVisits ?? defaultMaxVisits
  const seen = new Int32Array(n)
  /** The steps whose paths overlap `w`'s writes, as the report lists them; `undefined` when out of budget. */
  const touching = (w: number): Touching | undefined => {
    const mine = paths[w]!
    const stamp = w + 1
    seen[w] = stamp
    const candidates: Array<number> = []
    const add = (list: ReadonlyArray<number>): boolean => {
      for (const o of list) {
        if (seen[o] === stamp) continue
        seen[o] = stamp
        if (--budget < 0) return false
        candidates.push(o)
      }
      return true
    }
    for (const { prefix } of mine.write) {
      // Shorter prefixes that this one starts with, then this one and those starting with it.
      for (const length of lengths) {
        if (length >= prefix.length) break
        const list = byPrefix.get(prefix.slice(0, length))
        if (list !== undefined && !add(list)) return undefined
      }
      for (let at = lowerBound(prefixes, prefix); at < prefixes.length && prefixes[at]!.startsWith(prefix); at++) {
        if (!add(byPrefix.get(prefixes[at]!)!)) return undefined
      }
    }
    // Reported by the first of the writer's folders (then "") that the other
    // step declares a glob in, then in declaration order, or all in
    // declaration order when the writer may write anywhere.
    const order = [...new Set(mine.write.map(folderOf)), ""]
    const anywhere = order.indexOf("") < order.length - 1
    const rank = (o: number) => {
      let first = order.length
      if (!anywhere) for (const glob of [...paths[o]!.write, ...paths[o]!.read]) first = Math.min(first, order.indexOf(folderOf(glob)) >>> 0)
      return first
    }
    const others: Array<Touching["others"][number] & { readonly rank: number }> = []
    for (const o of candidates) {
      const theirs = paths[o]!
      // A pair of writers is compared for write/write once, from the earlier one.
      const ww = theirs.write.length > 0 && o > w ? firstOverlap(mine.write, theirs.write) : undefined
      const wr = ww === undefined ? firstOverlap(mine.write, theirs.read) : undefined
      if (ww !== undefined || wr !== undefined) others.push({ o, ww, wr, rank: rank(o) })
    }
    others.sort((p, q) => p.rank - q.rank || p.o - q.o)
    return { w, others }
  }

  let order: Int32Array | undefined
  /** Reports the conflicts of `batch`'s writers; false when out of budget. */
  const settle = (batch: ReadonlyArray<Touching>): boolean => {
    order ??= topologicalOrder(plan)
    budget -= 3 * n
    if (budget < 0) return false
    // Bit j of a step's word: it is writer j or waits for it (`after`), or writer j waits for it (`before`).
    const words = Math.ceil(batch.length / 32)
    const after = new Int32Array(n * words)
    const before = new Int32Array(n * words)
    batch.forEach(({ w }, j) => {
      after[w * words + (j >> 5)]! |= 1 << (j & 31)
      before[w * words + (j >> 5)]! |= 1 << (j & 31)
    })
    for (let k = 0; k < n; k++) {
      const v = order[k]!
      for (const d of plan.deps[v]!) for (let x = 0; x < words; x++) after[v * words + x]! |= after[d * words + x]!
    }
    for (let k = n - 1; k >= 0; k--) {
      const v = order[k]!
      for (const d of plan.dependents[v]!) for (let x = 0; x < words; x++) before[v * words + x]! |= before[d * words + x]!
    }
    batch.forEach(({ w, others }, j) => {
      for (const { o, ww, wr } of others) {
        const at = o * words + (j >> 5)
        if (((after[at]! | before[at]!) & (1 << (j & 31))) !== 0) continue
        const pair = w < o ? `${w} ${o}` : `${o} ${w}`
        if (pairs.has(pair)) continue
        pairs.add(pair)
        conflicts.push(conflictOf(plan.ids, w, o, ww, wr))
      }
    })
    return true
  }

  let batch: Array<Touching> = []
  for (const w of declaring) {
    if (paths[w]!.write.length === 0) continue
    const found = touching(w)
    if (found === undefined) return { conflicts, complete: false }
    if (found.others.length > 0) batch.push(found)
    if (batch.length === writersPerPass) {
      if (!settle(batch)) return { conflicts, complete: false }
      batch = []
    }
  }
  if (batch.length > 0 && !settle(batch)) return { conflicts, complete: false }
  return { conflicts, complete: true }
}

/** The first index of `sorted` whose string is not below `s`. */
const lowerBound = (sorted: ReadonlyArray<string>, s: string): number => {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < s) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The steps in an order where each comes after those it waits for. */
const topologicalOrder = (plan: Pick<Plan, "deps" | "dependents">): Int32Array => {
  const n = plan.deps.length
  const waiting = new Int32Array(n)
  const order = new Int32Array(n)
  let end = 0
  for (let i = 0; i < n; i++) if ((waiting[i] = plan.deps[i]!.length) === 0) order[end++] = i
  for (let k = 0; k < end; k++) {
    for (const d of plan.dependents[order[k]!]!) if (--waiting[d]! === 0) order[end++] = d
  }
  // A plan's steps wait only for steps declared before them (Plan.make checks it).
  if (end !== n) throw new Error("raceCheck: the plan's steps wait for each other in a cycle")
  return order
}

/** The first folder of a glob's literal prefix; "" when the glob may match at the top (`*.js`, `**\/x`). */
const folderOf = ({ prefix, literal }: Glob): string => {
  const slash = prefix.indexOf("/")
  if (slash !== -1) return prefix.slice(0, slash)
  return literal ? prefix : ""
}

const conflictOf = (
  ids: ReadonlyArray<string>,
  w: number,
  o: number,
  ww: Found | undefined,
  wr: Found | undefined
): Conflict => {
  const [first, second] = w < o ? [w, o] : [o, w]
  const a = ids[first]!
  const b = ids[second]!
  const found = (ww ?? wr)!
  const globA = first === w ? found.x : found.y
  const globB = first === w ? found.y : found.x
  const fix = "add needs/after between them or write to separate paths"
  if (ww !== undefined) {
    return {
      a, b, kind: "write/write", path: found.path, globA, globB,
      message: `steps "${a}" and "${b}" may run at the same time and both write ${found.path} (${a}: ${globA}, ${b}: ${globB}); ${fix}`
    }
  }
  const writer = ids[w]!
  const reader = ids[o]!
  return {
    a, b, kind: "write/read", writer, path: found.path, globA, globB,
    message: `steps "${a}" and "${b}" may run at the same time and "${writer}" writes ${found.path}, which "${reader}" reads (${a}: ${globA}, ${b}: ${globB}); ${fix}`
  }
}
