/**
 * Globs as watch mode needs them: which folders to give the watcher, which
 * paths a pattern matches, and which folders cannot hold a match (so the
 * watcher never descends into them).
 *
 * Matching follows `cache.inputs` as `runtime/cache/fileHashes.ts` expands
 * them with `fs.glob` (the same engine as `path.matchesGlob`): `*` and `**`
 * skip dot-files and dot-folders unless the pattern names them, and
 * `node_modules` is skipped unless a pattern names it as a whole segment.
 */
import * as path from "node:path"

/** A glob split into the folder it starts from and the rest, relative to that folder (always `/`-separated). */
export interface WatchPattern {
  /** Absolute folder: the glob's leading segments without wildcards. */
  readonly base: string
  /** What is left, matched against paths relative to `base`; `""` when the pattern names `base` itself. */
  readonly glob: string
  /** Segments the pattern names explicitly, so they are not skipped (`node_modules`, `.git`, `.weft`). */
  readonly named: ReadonlySet<string>
}

/** Folders watch mode never looks into unless a pattern names them: weft's own state, packages, git. */
export const skippedNames: ReadonlyArray<string> = [".weft", "node_modules", ".git"]

const magic = /[*?[\]{}()!+@]/

/**
 * Expands `{a,b}` alternatives (nested too) so each result has a plain base:
 * `{src,lib}/**` becomes `src/**` and `lib/**`.
 */
export const expandBraces = (glob: string): Array<string> => {
  const open = glob.indexOf("{")
  if (open === -1) return [glob]
  let depth = 0
  const commas: Array<number> = []
  for (let i = open; i < glob.length; i++) {
    const c = glob[i]
    if (c === "\\") i++
    else if (c === "{") depth++
    else if (c === "," && depth === 1) commas.push(i)
    else if (c === "}" && --depth === 0) {
      if (commas.length === 0) {
        // `{a}` is not an alternative: keep it literal and expand what follows.
        return expandBraces(glob.slice(i + 1)).map((rest) => glob.slice(0, i + 1) + rest)
      }
      const head = glob.slice(0, open)
      const tail = glob.slice(i + 1)
      const bounds = [open, ...commas, i]
      const options = bounds.slice(1).map((end, k) => glob.slice(bounds[k]! + 1, end))
      return options.flatMap((option) => expandBraces(head + option + tail))
    }
  }
  return [glob]
}

/** The patterns of `glob` (relative to `root`, or absolute), one per brace alternative. */
export const patternsOf = (root: string, glob: string): Array<WatchPattern> =>
  expandBraces(glob.split(path.sep).join("/")).map((one) => {
    const segments = one.split("/")
    const literal: Array<string> = []
    while (segments.length > 0 && !magic.test(segments[0]!)) literal.push(segments.shift()!)
    const named = new Set(one.split("/").filter((segment) => skippedNames.includes(segment)))
    return { base: path.resolve(root, literal.join("/") || "."), glob: segments.join("/"), named }
  })

/** `abs` relative to `base` as `/`-separated segments, or `undefined` when it is not inside `base`. */
const segmentsUnder = (base: string, abs: string): Array<string> | undefined => {
  if (abs === base) return []
  const rel = path.relative(base, abs)
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) return undefined
  return rel.split(path.sep)
}

const skipped = (pattern: WatchPattern, segments: ReadonlyArray<string>): boolean =>
  segments.some((segment) => skippedNames.includes(segment) && !pattern.named.has(segment))

/** Whether the file at `abs` is matched by `pattern`. */
export const matches = (pattern: WatchPattern, abs: string): boolean => {
  const segments = segmentsUnder(pattern.base, abs)
  if (segments === undefined || skipped(pattern, segments)) return false
  if (pattern.glob === "") return segments.length === 0
  return segments.length > 0 && path.posix.matchesGlob(segments.join("/"), pattern.glob)
}

/**
 * Whether any of `patterns` matches the file at `abs`: only a pattern whose
 * base is `abs` or one of its folders can, so the patterns are grouped by
 * base once (per list) and a path checks just those on its way up. Watch mode
 * asks this for every entry chokidar lists; with one pattern per step input,
 * trying each pattern for each entry cost 200 × 200 checks per rescan of a
 * 200-file folder, tens of milliseconds on every change.
 */
export const matchesAny = (patterns: ReadonlyArray<WatchPattern>, abs: string): boolean => {
  let byBase = indexes.get(patterns)
  if (byBase === undefined) {
    byBase = new Map()
    for (const pattern of patterns) {
      const list = byBase.get(pattern.base)
      if (list === undefined) byBase.set(pattern.base, [pattern])
      else list.push(pattern)
    }
    indexes.set(patterns, byBase)
  }
  for (let at = abs; ; ) {
    const here = byBase.get(at)
    if (here !== undefined && here.some((pattern) => matches(pattern, abs))) return true
    const up = path.dirname(at)
    if (up === at) return false
    at = up
  }
}

const indexes = new WeakMap<ReadonlyArray<WatchPattern>, Map<string, Array<WatchPattern>>>()

/**
 * Whether the folder at `abs` may hold a file `pattern` matches: it lies on
 * the way to the pattern's base, or below the base where the remaining
 * segments could still match.
 */
export const mayContain = (pattern: WatchPattern, abs: string): boolean => {
  if (pattern.base === abs || pattern.base.startsWith(abs.endsWith(path.sep) ? abs : abs + path.sep)) return true
  const segments = segmentsUnder(pattern.base, abs)
  if (segments === undefined || skipped(pattern, segments)) return false
  return couldDescend(pattern.glob === "" ? [] : pattern.glob.split("/"), segments, 0, 0)
}

/** Whether folder segments `dir[j..]` can be consumed by glob segments `glob[i..]` with something left to match a file. */
const couldDescend = (glob: ReadonlyArray<string>, dir: ReadonlyArray<string>, i: number, j: number): boolean => {
  if (j === dir.length) return i < glob.length
  if (i === glob.length) return false
  const part = glob[i]!
  if (part === "**") {
    // `**` does not enter dot-folders (as `fs.glob`), but may also match nothing.
    return couldDescend(glob, dir, i + 1, j) || (!dir[j]!.startsWith(".") && couldDescend(glob, dir, i, j + 1))
  }
  return path.posix.matchesGlob(dir[j]!, part) && couldDescend(glob, dir, i + 1, j + 1)
}

/** Whether `pattern` covers everything below the folder `abs` (`dist/**`): the watcher can skip the folder whole. */
export const coversFolder = (pattern: WatchPattern, abs: string): boolean => {
  const segments = segmentsUnder(pattern.base, abs)
  if (segments === undefined) return false
  const glob = pattern.glob.split("/")
  const last = glob.at(-1) === "*" && glob.at(-2) === "**" ? glob.length - 2 : glob.at(-1) === "**" ? glob.length - 1 : -1
  if (last === -1) return false
  const prefix = glob.slice(0, last).join("/")
  const dir = segments.join("/")
  return prefix === "" || (dir !== "" && path.posix.matchesGlob(dir, prefix)) ||
    // Below a covered folder too: `dist/sub` under `dist/**`.
    segments.some((_, k) => k > 0 && path.posix.matchesGlob(segments.slice(0, k).join("/"), prefix))
}
