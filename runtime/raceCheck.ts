/**
 * The static race check: steps that may run at the same time (neither waits
 * for the other, directly or transitively, through `needs`/`after`) and that
 * declare overlapping files, both writing them or one writing what the other
 * reads. Writes are `permissions.write` and `cache.outputs`; reads are
 * `permissions.read` and `cache.inputs`. Pure: it reads the plan, never the
 * disk.
 */
import type { StepDef } from "../dsl/Step.ts"
import { resolveCacheOptions } from "./cache/options.ts"
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

interface Paths {
  readonly write: ReadonlyArray<string>
  readonly read: ReadonlyArray<string>
}

const none: Paths = { write: [], read: [] }

/** A step's declared paths: its own `permissions` replace the workflow's, as for `env`. */
const pathsOf = (def: StepDef, wf: Plan["workflow"]): Paths => {
  const permissions = def.permissions ?? wf.options?.permissions
  const cache = resolveCacheOptions(def.cache, wf.options?.cache)
  const write = [...(permissions?.write ?? []), ...(cache?.outputs ?? [])]
  const read = [...(permissions?.read ?? []), ...(cache?.inputs ?? [])]
  return write.length === 0 && read.length === 0 ? none : { write, read }
}

const globChars = /[*?[\]{}!()]/

/** The part of a glob before its first glob character, without a leading `./`. */
const normalize = (glob: string): { readonly prefix: string; readonly literal: boolean } => {
  const clean = glob.replace(/^(\.\/)+/, "").replace(/\/{2,}/g, "/")
  const at = clean.search(globChars)
  return at === -1 ? { prefix: clean.replace(/\/$/, ""), literal: true } : { prefix: clean.slice(0, at), literal: false }
}

const under = (path: string, folder: string) => folder === "" || path === folder || path.startsWith(folder.endsWith("/") ? folder : folder + "/")

/**
 * The path two globs may both match, or `undefined` when they cannot. Sound
 * and simple: two literal paths overlap when equal or one is a folder of the
 * other; a glob may match anything that starts with its literal prefix.
 */
export const overlap = (x: string, y: string): string | undefined => {
  const a = normalize(x)
  const b = normalize(y)
  const [short, long] = a.prefix.length <= b.prefix.length ? [a, b] : [b, a]
  const shown = (p: string) => (p === "" ? "." : p)
  if (short.literal) return under(long.prefix, short.prefix) ? shown(short.prefix) : undefined
  // `short` is a glob: it may match anything starting with its prefix.
  return long.prefix.startsWith(short.prefix) ? shown(short.prefix) : undefined
}

/** The first overlap between `xs` and `ys`, as the two globs and the shared path. */
const firstOverlap = (xs: ReadonlyArray<string>, ys: ReadonlyArray<string>) => {
  for (const x of xs) {
    for (const y of ys) {
      const path = overlap(x, y)
      if (path !== undefined) return { x, y, path }
    }
  }
  return undefined
}

/**
 * Every pair of steps that may run at the same time and touch the same
 * files, each pair once, grouped by writer in declaration order. Only steps that declare paths
 * are compared, and reachability is searched only from writers that overlap
 * some other step, so a 10,000-step workflow with few writers stays fast;
 * the search stops after `maxVisits` nodes (`complete: false`).
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
  // Steps by the first folder of each glob they declare ("" for a glob that
  // may match anywhere): a writer is compared only with its folders' steps.
  const byFolder = new Map<string, Array<number>>()
  for (const i of declaring) {
    for (const glob of [...paths[i]!.write, ...paths[i]!.read]) {
      const key = folderOf(glob)
      const list = byFolder.get(key) ?? byFolder.set(key, []).get(key)!
      if (list.at(-1) !== i) list.push(i)
    }
  }
  const conflicts: Array<Conflict> = []
  const pairs = new Set<string>()
  // Stamped with the writer's index + 1: the steps ordered with it, the steps compared with it.
  const ordered = new Int32Array(n)
  const compared = new Int32Array(n)
  let budget = options.maxVisits ?? defaultMaxVisits
  const mark = (from: number, edges: ReadonlyArray<ReadonlyArray<number>>, stamp: number): boolean => {
    const stack = [from]
    while (stack.length > 0) {
      for (const next of edges[stack.pop()!]!) {
        if (ordered[next] === stamp) continue
        if (--budget < 0) return false
        ordered[next] = stamp
        stack.push(next)
      }
    }
    return true
  }
  for (const w of declaring) {
    const mine = paths[w]!
    if (mine.write.length === 0) continue
    const stamp = w + 1
    compared[w] = stamp
    let searched = false
    const folders = new Set(mine.write.map(folderOf))
    const lists = folders.has("") ? [declaring] : [...folders, ""].map((f) => byFolder.get(f) ?? [])
    for (const list of lists) {
      for (const o of list) {
        if (compared[o] === stamp) continue
        compared[o] = stamp
        if (--budget < 0) return { conflicts, complete: false }
        const theirs = paths[o]!
        // A pair of writers is compared for write/write once, from the earlier one.
        const ww = theirs.write.length > 0 && o > w ? firstOverlap(mine.write, theirs.write) : undefined
        const wr = ww === undefined ? firstOverlap(mine.write, theirs.read) : undefined
        if (ww === undefined && wr === undefined) continue
        if (!searched) {
          searched = true
          if (!mark(w, plan.deps, stamp) || !mark(w, plan.dependents, stamp)) return { conflicts, complete: false }
        }
        if (ordered[o] === stamp) continue
        const pair = w < o ? `${w} ${o}` : `${o} ${w}`
        if (pairs.has(pair)) continue
        pairs.add(pair)
        conflicts.push(conflictOf(plan.ids, w, o, ww, wr))
      }
    }
  }
  return { conflicts, complete: true }
}

/** The first folder of a glob's literal prefix; "" when the glob may match at the top (`*.js`, `**\/x`). */
const folderOf = (glob: string): string => {
  const { prefix, literal } = normalize(glob)
  const slash = prefix.indexOf("/")
  if (slash !== -1) return prefix.slice(0, slash)
  return literal ? prefix : ""
}

const conflictOf = (
  ids: ReadonlyArray<string>,
  w: number,
  o: number,
  ww: { x: string; y: string; path: string } | undefined,
  wr: { x: string; y: string; path: string } | undefined
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
