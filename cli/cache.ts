/**
 * `weft cache stats|prune|clear [file]`: look into and trim the step cache of
 * a workflow's folder. The file (default `weft.ts`) only says which folder;
 * without one, the current folder is meant. The store is
 * `$WEFT_CACHE_DIR`, else `cache` in weft's folder (`$WEFT_DIR`, else `.weft`
 * in that folder), as for `weft run`; the run history is in weft's folder.
 */
import { existsSync, statSync } from "node:fs"
import * as path from "node:path"
import type { EntryInfo } from "../runtime/cache/CacheStore.ts"
import { makeFileStore } from "../runtime/cache/FileStore.ts"
import { defaultCacheDir } from "../runtime/cache/runCache.ts"
import { formatBytes, parseSize } from "../runtime/cache/size.ts"
import { defaultWeftDir } from "../runtime/weftDir.ts"
import { readRuns } from "../runtime/history/History.ts"
import { hitRates, type HitRates } from "../runtime/history/hitRates.ts"
import { suggestion } from "../dsl/didYouMean.ts"
import { UsageError } from "./common.ts"
import { parseFlags } from "./flags.ts"
import { cacheSpecs } from "./specs.ts"

/** What the cache commands need of the command line's I/O. */
export interface CacheIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly cwd: string
}

/** The cap `weft cache prune` uses when given none: the budget runs keep the store under. */
export const defaultMaxSize = "5GiB"

export { formatBytes, parseSize }

const percent = (rate: number | undefined) => (rate === undefined ? "n/a" : `${(rate * 100).toFixed(0)}%`)

/** The folder `file` points at: its folder if it is a file, itself if a folder, else the current folder. */
const folderOf = (cwd: string, file: string | undefined): string => {
  const absolute = path.resolve(cwd, file ?? "weft.ts")
  if (existsSync(absolute)) return statSync(absolute).isDirectory() ? absolute : path.dirname(absolute)
  if (file !== undefined && !/\.(ts|js|mjs|mts|json|ya?ml)$/i.test(file)) throw new UsageError(`no such file or folder: ${file}`)
  return cwd
}

const sizeOption = (value: string, flag: string): number => {
  const bytes = parseSize(value)
  if (bytes === undefined) throw new UsageError(`${flag} must be a size like 500MB, 2GiB or 1048576 (bytes), not "${value}"`)
  return bytes
}

/** A flag of another cache subcommand (`weft cache stats --max-size`) is said to be one, not an unknown option. */
const misplaced = (sub: keyof typeof cacheSpecs, args: ReadonlyArray<string>): void => {
  for (const arg of args) {
    const name = /^--([^=]+)/.exec(arg)?.[1]
    if (name === undefined || Object.hasOwn(cacheSpecs[sub].flags, name)) continue
    const owner = Object.values(cacheSpecs).find((spec) => Object.hasOwn(spec.flags, name))
    if (owner !== undefined) throw new UsageError(`--${name} applies to weft ${owner.name}, not weft cache ${sub}`)
  }
}

/**
 * Runs `weft cache …args`; resolves with the exit code. Each subcommand
 * parses its own flags (`specs.ts`), so one that does not apply to it is
 * an unknown option there.
 */
export const cacheCommand = async (args: ReadonlyArray<string>, io: CacheIo): Promise<number> => {
  const [sub, ...rest] = args
  if (sub !== undefined && Object.hasOwn(cacheSpecs, sub)) misplaced(sub as keyof typeof cacheSpecs, rest)
  const storeOf = (positionals: ReadonlyArray<string>) => {
    if (positionals.length > 1) throw new UsageError(`cache ${sub} takes one file, got ${positionals.join(" ")}`)
    const folder = folderOf(io.cwd, positionals[0])
    const weftDir = path.resolve(io.cwd, defaultWeftDir(folder))
    const dir = path.resolve(io.cwd, defaultCacheDir(folder, weftDir))
    const warn = (message: string) => io.stderr(`weft: cache: ${message}\n`)
    return { dir, weftDir, store: makeFileStore(dir, { onWarning: warn }) }
  }
  switch (sub) {
    case "stats": {
      const { values, positionals } = parseFlags(cacheSpecs.stats, rest)
      const { dir, weftDir, store } = storeOf(positionals)
      const [entries, totals, history] = await Promise.all([store.list(), store.stats(), readRuns(weftDir, { last: values.runs ?? 10 })])
      const stats = { dir, ...summarize(entries), bytes: totals.bytes, history: hitRates(history) }
      io.stdout(values.json ? `${JSON.stringify(stats)}\n` : renderStats(stats))
      return 0
    }
    case "prune": {
      const { values, positionals } = parseFlags(cacheSpecs.prune, rest)
      const { dir, store } = storeOf(positionals)
      const maxBytes = values["max-size"] ?? sizeOption(process.env.WEFT_CACHE_MAX_SIZE ?? defaultMaxSize, "WEFT_CACHE_MAX_SIZE")
      const { removed, freedBytes } = await store.prune({ maxBytes })
      const left = await store.stats()
      io.stdout(`pruned ${dir}: removed ${removed} ${removed === 1 ? "entry" : "entries"}, freed ${formatBytes(freedBytes)}; ${left.entries} left (${formatBytes(left.bytes)}, cap ${formatBytes(maxBytes)})\n`)
      return 0
    }
    case "clear": {
      const { dir, store } = storeOf(parseFlags(cacheSpecs.clear, rest).positionals)
      const before = await store.stats()
      await store.clear()
      io.stdout(`cleared ${dir}: removed ${before.entries} ${before.entries === 1 ? "entry" : "entries"}, freed ${formatBytes(before.bytes)}\n`)
      return 0
    }
    case undefined:
      throw new UsageError("cache needs a subcommand: stats, prune or clear")
    default:
      throw new UsageError(`unknown cache subcommand "${sub}".${suggestion(sub, Object.keys(cacheSpecs))} Subcommands: stats, prune, clear`)
  }
}

interface EntrySummary {
  readonly entries: number
  readonly byKind: Readonly<Record<EntryInfo["kind"], { readonly entries: number; readonly bytes: number }>>
  readonly oldest: number | undefined
  readonly newest: number | undefined
}

const summarize = (entries: ReadonlyArray<EntryInfo>): EntrySummary => {
  const byKind = { step: { entries: 0, bytes: 0 }, memo: { entries: 0, bytes: 0 } }
  let oldest: number | undefined
  let newest: number | undefined
  for (const e of entries) {
    byKind[e.kind].entries++
    byKind[e.kind].bytes += e.bytes
    oldest = oldest === undefined ? e.createdAt : Math.min(oldest, e.createdAt)
    newest = newest === undefined ? e.createdAt : Math.max(newest, e.createdAt)
  }
  return { entries: entries.length, byKind, oldest, newest }
}

const renderStats = (s: EntrySummary & { readonly dir: string; readonly bytes: number; readonly history: HitRates }): string => {
  const date = (ms: number | undefined) => (ms === undefined ? "-" : new Date(ms).toISOString())
  const lines = [
    `cache ${s.dir}`,
    `  entries  ${s.entries} (${s.byKind.step.entries} step, ${s.byKind.memo.entries} memo)`,
    `  size     ${formatBytes(s.bytes)} (step ${formatBytes(s.byKind.step.bytes)}, memo ${formatBytes(s.byKind.memo.bytes)}, the rest output files)`,
    `  oldest   ${date(s.oldest)}`,
    `  newest   ${date(s.newest)}`,
    `last ${s.history.runs} ${s.history.runs === 1 ? "run" : "runs"}`,
    `  steps    ${percent(s.history.steps.rate)} cached (${s.history.steps.cached} cached, ${s.history.steps.ran} ran)`,
    ...Object.entries(s.history.memo).map(([name, m]) => `  memo ${name}  ${percent(m.rate)} answered (${m.answered} of ${m.calls} calls)`),
    `  saved    ${(s.history.savedMs / 1000).toFixed(1)} s`
  ]
  return `${lines.join("\n")}\n`
}
