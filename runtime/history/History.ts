/**
 * Run history: one small record per run, in `.weft/history/runs.ndjson`
 * in weft's folder (`<weftDir>/history/`, see `weftDir.ts`), the last
 * {@link maxRecords} kept. `weft history` lists them and `weft cache stats`
 * reads them to show how often the cache and memoized calls answered.
 *
 * A record is folded from the run's events by `SummaryBuilder`, so it agrees
 * with what the reporters showed. Appending is safe between processes: each
 * writer holds a lock file while it adds its line, and trimming replaces the
 * file atomically, so a reader sees whole lines of a whole file.
 *
 * Older weft kept the records in `.weft/history.ndjson`; {@link readRuns}
 * still reads that file, and the next run moves its records into the folder.
 *
 * @example
 * const records = await readRuns(".weft", { last: 10 })
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { writeAtomic } from "../internal/atomic.ts"
import type { MemoLine, Summary } from "../Summary.ts"
import { withFileLock } from "./internal/lock.ts"

/** How many records the file keeps: older ones are dropped when a run is added. */
export const maxRecords = 200

/** What every remembered run says about itself: the record and the report share it. */
export interface RunHeader {
  /** The run's id (`run:start`'s `run`): unique per run. */
  readonly id: string
  readonly workflow: string
  /** The workflow file, when the run came from one. */
  readonly file?: string | undefined
  readonly status: Summary["status"]
  /** Epoch milliseconds. */
  readonly startedAt: number
  readonly durationMs: number
  /** Time the cache and memoized calls saved. */
  readonly savedMs: number
}

/** One run, as remembered. */
export interface HistoryRecord extends RunHeader {
  /** Steps by end status (`succeeded`, `cached`, `failed`, `skipped`, `cancelled`), plus `ran`: steps whose body ran. */
  readonly steps: Readonly<Record<string, number>>
  /** Memoized functions' calls, by name. */
  readonly memo: Readonly<Record<string, MemoLine>>
}

/** The history folder in weft's folder `weftDir` (`.weft/history`). */
export const historyDir = (weftDir: string): string => path.join(path.resolve(weftDir), "history")

/** Where the run records in `weftDir` live. */
export const historyFile = (weftDir: string): string => path.join(historyDir(weftDir), "runs.ndjson")

/** Where older weft kept them. */
export const legacyHistoryFile = (weftDir: string): string => path.join(path.resolve(weftDir), "history.ndjson")

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

/** A file's text; "" when it does not exist. */
export const readText = async (file: string): Promise<string> => {
  try {
    return await fs.readFile(file, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return ""
    throw error
  }
}

const newest = <A>(items: Array<A>, last: number | undefined): Array<A> =>
  last === undefined ? items : items.slice(Math.max(0, items.length - last))

/** The records in `file`, oldest first; with `last`, only that many of the newest. Missing file: none. */
export const readHistory = async (file: string, options: { readonly last?: number } = {}): Promise<Array<HistoryRecord>> =>
  newest(parseLines(await readText(file)), options.last)

/** The runs recorded in `weftDir`, oldest first, the legacy file's included; with `last`, the newest that many. */
export const readRuns = async (weftDir: string, options: { readonly last?: number } = {}): Promise<Array<HistoryRecord>> => {
  const [legacy, current] = await Promise.all([readHistory(legacyHistoryFile(weftDir)), readHistory(historyFile(weftDir))])
  if (legacy.length === 0) return newest(current, options.last)
  // A migration cut short by a crash leaves a record in both files.
  const ids = new Set(current.map((r) => r.id))
  return newest([...legacy.filter((r) => !ids.has(r.id)), ...current], options.last)
}

/** Adds `record` to `file`, keeping the newest `keep` (default {@link maxRecords}). */
export const appendHistory = async (file: string, record: HistoryRecord, options: { readonly keep?: number } = {}): Promise<void> => {
  await fs.mkdir(path.dirname(file), { recursive: true })
  await withFileLock(file, () => appendLocked(file, record, options.keep ?? maxRecords))
}

/**
 * `appendHistory` for a caller holding the lock on `file`, with the records
 * of an older file to put first (a migration). Resolves with the ids of the
 * records trimming dropped.
 */
export const appendLocked = async (
  file: string,
  record: HistoryRecord,
  keep: number,
  before: ReadonlyArray<HistoryRecord> = []
): Promise<Array<string>> => {
  const records = parseLines(await readText(file))
  if (before.length === 0 && records.length < keep) {
    await fs.appendFile(file, `${JSON.stringify(record)}\n`)
    return []
  }
  const ids = new Set(records.map((r) => r.id))
  const all = [...before.filter((r) => !ids.has(r.id)), ...records, record]
  const cut = Math.max(0, all.length - keep)
  const text = all.slice(cut).map((r) => `${JSON.stringify(r)}\n`).join("")
  await writeAtomic({ tmpDir: path.dirname(file), target: file, durable: false, write: (handle) => handle.writeFile(text) })
  return all.slice(0, cut).map((r) => r.id)
}
