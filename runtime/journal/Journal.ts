/**
 * A run journal: what a run finished, written as it goes, so that a run that
 * was killed (SIGKILL, power loss) or failed can be resumed by replaying the
 * steps it already finished (`weft run --resume`).
 *
 * One file per run, `<runs>/<runId>/journal.ndjson`, one JSON object a line:
 *
 * ```
 * {"run":"…","workflow":"build","file":"weft.ts","startedAt":…,"resumes":"…"}   header
 * {"step":"lint","key":"<hex>","value":"<base64>","durationMs":12,"logs":[…],"partials":[…]}   a step that ended well
 * {"step":"big","key":"<hex>","value":"<base64>","durationMs":9,"output":{"file":"<run>/output/big.1f2e.out",…}}   one whose output outgrew a line
 * {"end":"succeeded"}                                                         the run ended
 * ```
 *
 * Only ever appended, each batch with one `write` and one `fdatasync`, so a
 * kill at any instant leaves whole lines followed by at most one torn line,
 * which reading ignores. A kill loses at most the batch being written: those
 * steps run again on resume. Steps are at-least-once; a recorded completion
 * is reused exactly when the step's key (`stepKey`) is unchanged.
 *
 * The key carries weft's cache format version, so a change to what a record
 * means makes old records mismatch (the steps run again). `logs` and
 * `partials` are optional instead: a journal written before they were kept
 * still resumes, its steps replayed without their output, and one whose
 * `logs` or `partials` do not read as such resumes the same way.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { isErrno } from "../cache/internal/atomic.ts"
import type { StepOutput } from "../internal/stepOutput.ts"

/** The first line of a journal. */
export interface JournalHeader {
  readonly run: string
  readonly workflow: string
  readonly file: string | undefined
  readonly startedAt: number
  /** The run this one resumed, whose records it may not have copied yet. */
  readonly resumes?: string | undefined
}

/** A step that ended well (succeeded, cached or replayed). */
export interface JournalRecord {
  readonly step: string
  readonly key: string
  /** `serializeValue` of its output, base64. */
  readonly value: string
  readonly durationMs: number
  /** Its log lines, replayed (marked `replayed`) on resume; absent: none, or written before weft kept them. */
  readonly logs?: StepOutput["logs"] | undefined
  /** The parts it streamed, replayed on resume with its log lines; absent: none. */
  readonly partials?: StepOutput["partials"] | undefined
  /** Its log lines and parts when they outgrew a record: a file beside the journal, replayed instead of `logs` and `partials`. */
  readonly output?: RecordedOutput | undefined
}

/** A step's output kept in a file (`runtime/internal/outputFile.ts`), as a record refers to it. */
export interface RecordedOutput {
  /** Relative to the runs folder, with `/`: `<run>/output/<name>`. */
  readonly file: string
  /** SHA-256 of the file, hex, checked before it is replayed. */
  readonly digest: string
  readonly bytes: number
  /** Streamed parts at its start that earlier attempts streamed: not replayed. */
  readonly skipParts: number
}

/** How a run ended, as its last line says; `undefined`: it never said (killed). */
export type JournalEnd = "succeeded" | "failed" | "cancelled"

/** A journal as read back. */
export interface JournalContents {
  readonly header: JournalHeader
  /** The last record of each step. */
  readonly records: ReadonlyMap<string, JournalRecord>
  readonly end: JournalEnd | undefined
}

/** The journal file of `run` under `dir` (the runs folder). */
export const journalFile = (dir: string, run: string): string => path.join(dir, run, "journal.ndjson")

/** A fresh run id: sorts by start time (then randomly within a millisecond). */
export const makeRunId = (now: number = Date.now()): string =>
  `${new Date(now).toISOString().replace(/[-:.]/g, "")}-${randomBytes(3).toString("hex")}`

/**
 * Parses a journal's text. Lines that do not parse (a torn last line) are
 * skipped; `undefined` when there is no header.
 */
export const parseJournal = (text: string): JournalContents | undefined => {
  let header: JournalHeader | undefined
  const records = new Map<string, JournalRecord>()
  let end: JournalEnd | undefined
  for (const line of text.split("\n")) {
    if (line === "") continue
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line)
    } catch {
      continue
    }
    if (typeof entry !== "object" || entry === null) continue
    if (header === undefined) {
      if (typeof entry.run === "string" && typeof entry.workflow === "string") header = entry as unknown as JournalHeader
      else return undefined
    } else if (typeof entry.step === "string" && typeof entry.key === "string" && typeof entry.value === "string") {
      records.set(entry.step, recordOf(entry))
    } else if (typeof entry.end === "string") {
      end = entry.end as JournalEnd
    }
  }
  return header === undefined ? undefined : { header, records, end }
}

const streams: ReadonlySet<unknown> = new Set(["stdout", "stderr", "log"])
const isLog = (x: unknown): boolean => typeof x === "object" && x !== null && streams.has((x as { stream?: unknown }).stream) && typeof (x as { text?: unknown }).text === "string"
const isPart = (x: unknown): boolean =>
  typeof x === "object" && x !== null && typeof (x as { text?: unknown }).text === "string" && Number.isSafeInteger((x as { afterLogs?: unknown }).afterLogs)

const isOutput = (x: unknown): boolean => {
  const o = x as Partial<Record<keyof RecordedOutput, unknown>> | null
  return typeof o === "object" && o !== null && typeof o.file === "string" && !o.file.split("/").includes("..") &&
    typeof o.digest === "string" && /^[0-9a-f]{64}$/.test(o.digest) && Number.isSafeInteger(o.bytes) && Number.isSafeInteger(o.skipParts)
}

/** A record line as a record, with its `logs`, `partials` and `output` only where they read as such: the value replays regardless. */
const recordOf = (entry: Record<string, unknown>): JournalRecord => {
  const { logs, partials, output, ...rest } = entry
  return {
    ...(rest as unknown as JournalRecord),
    ...(Array.isArray(logs) && logs.every(isLog) ? { logs: logs as JournalRecord["logs"] } : {}),
    ...(Array.isArray(partials) && partials.every(isPart) ? { partials: partials as JournalRecord["partials"] } : {}),
    ...(isOutput(output) ? { output: output as RecordedOutput } : {})
  }
}

/** Reads the journal of `run`; `undefined` when it is missing or has no header. */
export const readJournal = async (dir: string, run: string): Promise<JournalContents | undefined> => {
  try {
    return parseJournal(await fs.readFile(journalFile(dir, run), "utf8"))
  } catch (error) {
    if (isErrno(error, "ENOENT", "ENOTDIR")) return undefined
    throw error
  }
}

const runsNewestFirst = async (dir: string): Promise<Array<string>> => {
  try {
    return (await fs.readdir(dir)).filter((name) => !name.startsWith(".")).sort().reverse()
  } catch (error) {
    if (isErrno(error, "ENOENT", "ENOTDIR")) return []
    throw error
  }
}

/**
 * The run of `workflow` to resume: its newest run, unless that one
 * succeeded (then there is nothing to resume). `undefined` when none.
 */
export const latestResumable = async (dir: string, workflow: string): Promise<JournalContents | undefined> => {
  for (const run of await runsNewestFirst(dir)) {
    const journal = await readJournal(dir, run)
    if (journal === undefined || journal.header.workflow !== workflow) continue
    return journal.end === "succeeded" ? undefined : journal
  }
  return undefined
}

/**
 * What `journal` and the runs it resumed recorded, the newest record of each
 * step winning: a resumed run that was killed before it wrote its replays
 * still offers them.
 */
export const recordsOf = async (dir: string, journal: JournalContents, depth = 20): Promise<Map<string, JournalRecord>> => {
  const older = journal.header.resumes === undefined || depth <= 0
    ? undefined
    : await readJournal(dir, journal.header.resumes).catch(() => undefined)
  const records = older === undefined ? new Map<string, JournalRecord>() : await recordsOf(dir, older, depth - 1)
  for (const [step, record] of journal.records) records.set(step, record)
  return records
}

/** Appends a run's records. */
export interface JournalWriter {
  readonly run: string
  /** Queues a record; it is written and synced with the others that end about now. */
  readonly record: (record: JournalRecord) => void
  /** Writes what is queued and the end line, syncs, and closes. Never rejects. */
  readonly close: (end: JournalEnd) => Promise<void>
  /** Closes and removes the journal: the run never started (its workflow is invalid). */
  readonly discard: () => Promise<void>
}

export interface OpenOptions {
  /** Told once if the journal cannot be written; the run carries on without it. */
  readonly onError: (message: string) => void
  /** Runs kept in `dir`, the newest; older ones are removed (default 20). */
  readonly keep?: number
}

/**
 * Starts the journal of a new run under `dir`, header written and synced.
 *
 * @example
 * const journal = await openJournal(".weft/runs", { run: makeRunId(), workflow: "build", file: "weft.ts", startedAt: Date.now() }, { onError })
 * journal.record({ step: "lint", key, value: base64, durationMs: 12 })
 * await journal.close("succeeded")
 */
export const openJournal = async (dir: string, header: JournalHeader, options: OpenOptions): Promise<JournalWriter> => {
  await prune(dir, (options.keep ?? 20) - 1)
  const file = journalFile(dir, header.run)
  await fs.mkdir(path.dirname(file), { recursive: true })
  const handle = await fs.open(file, "a")
  let failed = false
  const append = async (text: string) => {
    if (failed || text === "") return
    try {
      await handle.write(text)
      await handle.datasync()
    } catch (error) {
      failed = true
      options.onError(`cannot write the run journal ${file}: ${error instanceof Error ? error.message : String(error)}; this run cannot be resumed`)
    }
  }
  await append(JSON.stringify(header) + "\n")
  let pending: Array<string> = []
  let scheduled = false
  // One write at a time, in order: records that end while a sync is under way go in the next batch.
  let writing: Promise<void> = Promise.resolve()
  const flush = () => {
    scheduled = false
    writing = writing.then(() => {
      const text = pending.join("")
      pending = []
      return append(text)
    })
  }
  return {
    run: header.run,
    record: (record) => {
      pending.push(JSON.stringify(record) + "\n")
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    close: async (end) => {
      pending.push(JSON.stringify({ end }) + "\n")
      flush()
      await writing
      await handle.close().catch(() => {})
    },
    discard: async () => {
      failed = true
      await writing
      await handle.close().catch(() => {})
      await fs.rm(path.dirname(file), { recursive: true, force: true }).catch(() => {})
    }
  }
}

/** Removes all but the newest `keep` runs; a run another process removes first is fine. */
const prune = async (dir: string, keep: number): Promise<void> => {
  const old = (await runsNewestFirst(dir)).slice(Math.max(0, keep))
  await Promise.all(old.map((run) => fs.rm(path.join(dir, run), { recursive: true, force: true }).catch(() => {})))
}
