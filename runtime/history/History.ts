/**
 * Run history: one small record per run, appended to `history.ndjson` beside
 * the cache store (`<cacheDir>/../history.ndjson`), the last
 * {@link maxRecords} kept. `weft cache stats` reads it to show how often the
 * cache and memoized calls answered in recent runs.
 *
 * A record is folded from the run's events by `SummaryBuilder`, so it agrees
 * with what the reporters showed. Appending is safe between processes: each
 * writer holds a lock file while it adds its line, and trimming replaces the
 * file atomically, so a reader sees whole lines of a whole file.
 *
 * @example
 * const builder = new SummaryBuilder()
 * // …feed it every event of a run…
 * await appendHistory(historyFile(cacheDir), recordOf(builder.summary(), { id: randomUUID(), startedAt }))
 * const rates = hitRates(await readHistory(historyFile(cacheDir), { last: 10 }))
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { writeAtomic } from "../cache/internal/atomic.ts"
import type { MemoLine, Summary } from "../Summary.ts"
import { withFileLock } from "./internal/lock.ts"

/** How many records the file keeps: older ones are dropped when a run is added. */
export const maxRecords = 200

/** One run, as remembered. */
export interface HistoryRecord {
  /** Unique per run. */
  readonly id: string
  readonly workflow: string
  /** The workflow file, when the run came from one. */
  readonly file?: string | undefined
  readonly status: Summary["status"]
  /** Epoch milliseconds. */
  readonly startedAt: number
  readonly durationMs: number
  /** Steps by end status (`succeeded`, `cached`, `failed`, `skipped`, `cancelled`), plus `ran`: steps whose body ran. */
  readonly steps: Readonly<Record<string, number>>
  /** Time the cache and memoized calls saved. */
  readonly savedMs: number
  /** Memoized functions' calls, by name. */
  readonly memo: Readonly<Record<string, MemoLine>>
}

/** Where the history of the store in `cacheDir` lives. */
export const historyFile = (cacheDir: string): string => path.join(path.resolve(cacheDir), "..", "history.ndjson")

/** The record of a finished run, from its summary. */
export const recordOf = (
  summary: Summary,
  meta: { readonly id: string; readonly startedAt: number; readonly file?: string | undefined }
): HistoryRecord => {
  const steps: Record<string, number> = { ran: 0 }
  for (const line of summary.steps) {
    steps[line.status] = (steps[line.status] ?? 0) + 1
    // A step that started at least once ran its body, whatever it ended as.
    if (line.attempts > 0 && line.status !== "cached") steps.ran!++
  }
  return {
    id: meta.id,
    workflow: summary.workflow,
    ...(meta.file === undefined ? {} : { file: meta.file }),
    status: summary.status,
    startedAt: meta.startedAt,
    durationMs: summary.durationMs,
    steps,
    savedMs: summary.savedMs,
    memo: summary.memo
  }
}

const isRecord = (u: unknown): u is HistoryRecord => {
  if (typeof u !== "object" || u === null) return false
  const r = u as Record<string, unknown>
  return typeof r.id === "string" && typeof r.workflow === "string" && typeof r.durationMs === "number" &&
    typeof r.steps === "object" && r.steps !== null && typeof r.memo === "object" && r.memo !== null
}

const parseLines = (text: string): Array<HistoryRecord> =>
  text.split("\n").flatMap((line) => {
    if (line.trim() === "") return []
    try {
      const parsed: unknown = JSON.parse(line)
      return isRecord(parsed) ? [parsed] : []
    } catch {
      // A damaged line (a disk filled up mid-write) costs that record only.
      return []
    }
  })

const readText = async (file: string): Promise<string> => {
  try {
    return await fs.readFile(file, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return ""
    throw error
  }
}

/** The records in `file`, oldest first; with `last`, only that many of the newest. Missing file: none. */
export const readHistory = async (file: string, options: { readonly last?: number } = {}): Promise<Array<HistoryRecord>> => {
  const records = parseLines(await readText(file))
  return options.last === undefined ? records : records.slice(Math.max(0, records.length - options.last))
}

/** Adds `record` to `file`, keeping the newest `keep` (default {@link maxRecords}). */
export const appendHistory = async (file: string, record: HistoryRecord, options: { readonly keep?: number } = {}): Promise<void> => {
  const keep = options.keep ?? maxRecords
  const line = `${JSON.stringify(record)}\n`
  await fs.mkdir(path.dirname(file), { recursive: true })
  await withFileLock(file, async () => {
    const records = parseLines(await readText(file))
    if (records.length < keep) {
      await fs.appendFile(file, line)
      return
    }
    const text = [...records.slice(records.length - keep + 1), record].map((r) => `${JSON.stringify(r)}\n`).join("")
    await writeAtomic({ tmpDir: path.dirname(file), target: file, durable: false, write: (handle) => handle.writeFile(text) })
  })
}

/** Hit rates over some runs: a rate is `undefined` when nothing was asked. */
export interface HitRates {
  readonly runs: number
  readonly steps: { readonly cached: number; readonly ran: number; readonly rate: number | undefined }
  /** Per memoized function: (hits + coalesced) / calls. */
  readonly memo: Readonly<Record<string, { readonly calls: number; readonly answered: number; readonly rate: number | undefined }>>
  readonly savedMs: number
}

/** How often the cache answered over `records`: cached steps / (cached + ran), memo (hits + coalesced) / calls. */
export const hitRates = (records: ReadonlyArray<HistoryRecord>): HitRates => {
  let cached = 0
  let ran = 0
  let savedMs = 0
  const memo: Record<string, { calls: number; answered: number }> = {}
  for (const r of records) {
    cached += r.steps.cached ?? 0
    ran += r.steps.ran ?? 0
    savedMs += r.savedMs
    for (const [name, line] of Object.entries(r.memo)) {
      const m = (memo[name] ??= { calls: 0, answered: 0 })
      m.calls += line.calls
      m.answered += line.hits + line.coalesced
    }
  }
  const rate = (part: number, whole: number) => (whole === 0 ? undefined : part / whole)
  return {
    runs: records.length,
    steps: { cached, ran, rate: rate(cached, cached + ran) },
    memo: Object.fromEntries(Object.entries(memo).map(([name, m]) => [name, { ...m, rate: rate(m.answered, m.calls) }])),
    savedMs
  }
}
