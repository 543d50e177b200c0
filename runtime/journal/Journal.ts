/**
 * A run journal: what a run finished, written as it goes, so that a run that
 * was killed (SIGKILL, power loss) or failed can be resumed by replaying the
 * steps it already finished (`weft run --resume`).
 *
 * One file per run, `<runs>/<runId>/journal.ndjson`, one JSON object a line:
 *
 * ```
 * {"run":"…","workflow":"build","file":"weft.ts","startedAt":…,"resumes":"…","sum":"…"}   header
 * {"step":"lint","key":"<hex>","value":"<base64>","durationMs":12,"logs":[…],"partials":[…],"outputs":[…],"sum":"…"}   a step that ended well
 * {"step":"big","key":"<hex>","value":"<base64>","durationMs":9,"output":{"file":"<run>/output/big.1f2e.out",…},"sum":"…"}   one whose output outgrew a line
 * {"end":"succeeded","sum":"…"}                                               the run ended
 * ```
 *
 * The run id is the run's id everywhere (`run:start`, the history, `weft
 * report`, the log folders). Every line ends with the SHA-256 of its own
 * bytes (see `seal.ts`): a line that fails the check, or that a kill cut
 * short, is not a record, and reading lists it as damaged so that the caller
 * can say which step runs again. A journal written before lines carried a
 * checksum has no verifiable header and is not resumed at all.
 *
 * Only ever appended, each batch with one `write` and one `fdatasync`, so a
 * kill at any instant leaves whole lines followed by at most one torn line.
 * A kill loses at most the batch being written: those
 * steps run again on resume. Steps are at-least-once; a recorded completion
 * is reused exactly when the step's key (`stepKey`) is unchanged and its
 * declared output files (`outputs`) are on disk as recorded.
 *
 * The key carries weft's cache format version, so a change to what a record
 * means makes old records mismatch (the steps run again). `logs` and
 * `partials` are optional instead: a journal written before they were kept
 * still resumes, its steps replayed without their output, and one whose
 * `logs` or `partials` do not read as such resumes the same way.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { isErrno } from "../internal/atomic.ts"
import type { StoredFile } from "../cache/CacheStore.ts"
import type { StepOutput } from "../internal/stepOutput.ts"
import { openLine, sealLine, stepNamedBy } from "./seal.ts"

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
  /**
   * Its declared output files (`cache.outputs`) as they were when it ended:
   * `--resume` replays it only with these on disk (restored from the cache
   * if need be). Absent: it declares none.
   */
  readonly outputs?: ReadonlyArray<StoredFile> | undefined
  /** Its log lines and parts when they outgrew a record: a file beside the journal, replayed instead of `logs` and `partials`. */
  readonly output?: RecordedOutput | undefined
}

/** A journal line that is not a record: its bytes changed, or a kill cut it short. */
export interface JournalDamage {
  /** 1-based. */
  readonly line: number
  /** The step it was about, when that much can still be read. */
  readonly step: string | undefined
  /** Cut short: the journal's unterminated last line (a kill during its write). */
  readonly torn: boolean
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
  /** Lines after the header that could not be trusted, in order. */
  readonly damaged: ReadonlyArray<JournalDamage>
}

/** The journal file of `run` under `dir` (the runs folder). */
export const journalFile = (dir: string, run: string): string => path.join(dir, run, "journal.ndjson")

/**
 * Parses a journal's text. A line that fails its checksum or was cut short
 * is listed in `damaged`, never read as a record; `undefined` when the
 * header itself cannot be trusted (or there is none).
 */
export const parseJournal = (text: string): JournalContents | undefined => {
  let header: JournalHeader | undefined
  const records = new Map<string, JournalRecord>()
  const damaged: Array<JournalDamage> = []
  let end: JournalEnd | undefined
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line === "") continue
    const opened = openLine(line)
    const entry = opened.ok ? opened.entry : undefined
    if (header === undefined) {
      if (entry !== undefined && typeof entry.run === "string" && typeof entry.workflow === "string") header = entry as unknown as JournalHeader
      else return undefined
      continue
    }
    const record = entry === undefined ? undefined : recordOf(entry)
    if (record !== undefined) records.set(record.step, record)
    else if (entry !== undefined && (entry.end === "succeeded" || entry.end === "failed" || entry.end === "cancelled")) end = entry.end
    else damaged.push({ line: i + 1, step: stepNamedBy(line), torn: i === lines.length - 1 })
  }
  return header === undefined ? undefined : { header, records, end, damaged }
}

const streams: ReadonlySet<unknown> = new Set(["stdout", "stderr", "log"])
const isLog = (x: unknown): boolean => typeof x === "object" && x !== null && streams.has((x as { stream?: unknown }).stream) && typeof (x as { text?: unknown }).text === "string"
const isPart = (x: unknown): boolean =>
  typeof x === "object" && x !== null && typeof (x as { text?: unknown }).text === "string" && Number.isSafeInteger((x as { afterLogs?: unknown }).afterLogs)

const isStoredFile = (x: unknown): boolean => {
  if (typeof x !== "object" || x === null) return false
  const f = x as Record<string, unknown>
  return typeof f.path === "string" && typeof f.digest === "string" && /^[0-9a-f]{64}$/.test(f.digest) &&
    Number.isSafeInteger(f.size) && Number.isSafeInteger(f.mode)
}

const isOutput = (x: unknown): boolean => {
  const o = x as Partial<Record<keyof RecordedOutput, unknown>> | null
  return typeof o === "object" && o !== null && typeof o.file === "string" && !o.file.split("/").includes("..") &&
    typeof o.digest === "string" && /^[0-9a-f]{64}$/.test(o.digest) && Number.isSafeInteger(o.bytes) && Number.isSafeInteger(o.skipParts)
}

/**
 * A record line as a record, with its `logs` and `partials` only where they
 * read as such: the value replays regardless. `undefined` when it is not a
 * record, or its `outputs` do not read as files (then nothing could check
 * them), or its `output` file reference does not read as one (then its
 * replay would silently lose the step's output).
 */
const recordOf = (entry: Record<string, unknown>): JournalRecord | undefined => {
  if (typeof entry.step !== "string" || typeof entry.key !== "string" || typeof entry.value !== "string") return undefined
  if (entry.outputs !== undefined && !(Array.isArray(entry.outputs) && entry.outputs.every(isStoredFile))) return undefined
  if (entry.output !== undefined && !isOutput(entry.output)) return undefined
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
  // Run ids sort by start time to the second only: within a second, the header's start time decides.
  const journals = (await Promise.all((await runsNewestFirst(dir)).map((run) => readJournal(dir, run).catch(() => undefined))))
    .filter((journal): journal is JournalContents => journal !== undefined && journal.header.workflow === workflow)
    .sort((a, b) => b.header.startedAt - a.header.startedAt)
  const newest = journals[0]
  return newest === undefined || newest.end === "succeeded" ? undefined : newest
}

/**
 * What `journal` and the runs it resumed recorded, the newest record of each
 * step winning: a resumed run that was killed before it wrote its replays
 * still offers them.
 */
export const recordsOf = async (dir: string, journal: JournalContents, depth = 20): Promise<Map<string, JournalRecord>> => {
  const records = new Map<string, JournalRecord>()
  for (const each of await chainOf(dir, journal, depth)) for (const [step, record] of each.records) records.set(step, record)
  return records
}

/** `journal` and the runs it resumed, transitively (at most `depth` back), the oldest first. */
export const chainOf = async (dir: string, journal: JournalContents, depth = 20): Promise<Array<JournalContents>> => {
  const older = journal.header.resumes === undefined || depth <= 0
    ? undefined
    : await readJournal(dir, journal.header.resumes).catch(() => undefined)
  return [...(older === undefined ? [] : await chainOf(dir, older, depth - 1)), journal]
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
 * Starts the journal of a new run under `dir`: created, its header the
 * first write (synced with or before the first records), and the runs
 * beyond `keep` removed meanwhile; `close` waits for both.
 *
 * @example
 * const journal = await openJournal(".weft/runs", { run: makeRunId(Date.now()), workflow: "build", file: "weft.ts", startedAt: Date.now() }, { onError })
 * journal.record({ step: "lint", key, value: base64, durationMs: 12 })
 * await journal.close("succeeded")
 */
export const openJournal = async (dir: string, header: JournalHeader, options: OpenOptions): Promise<JournalWriter> => {
  const file = journalFile(dir, header.run)
  await fs.mkdir(path.dirname(file), { recursive: true })
  // Exclusive: two runs given one id must never share a journal (the caller picks another id).
  const handle = await fs.open(file, "wx")
  // Neither the old runs' removal nor the header's sync holds the run's
  // start (3 to 30 ms of a cached rerun's start-up): the header is the first
  // write of the chain below, so every record follows it and is synced with
  // or after it, and closing waits for both.
  const pruning = prune(dir, (options.keep ?? 20) - 1, header.run).catch(() => {})
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
  let pending: Array<string> = []
  let scheduled = false
  // One write at a time, in order: records that end while a sync is under way go in the next batch.
  let writing: Promise<void> = append(sealLine(header) + "\n")
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
      pending.push(sealLine(record) + "\n")
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    close: async (end) => {
      pending.push(sealLine({ end }) + "\n")
      flush()
      await Promise.all([writing, pruning])
      await handle.close().catch(() => {})
    },
    discard: async () => {
      failed = true
      await Promise.all([writing, pruning])
      await handle.close().catch(() => {})
      await fs.rm(path.dirname(file), { recursive: true, force: true }).catch(() => {})
    }
  }
}

/** Removes all but the newest `keep` runs other than `own`; a run another process removes first is fine. */
const prune = async (dir: string, keep: number, own: string): Promise<void> => {
  const old = (await runsNewestFirst(dir)).filter((run) => run !== own).slice(Math.max(0, keep))
  await Promise.all(old.map((run) => fs.rm(path.join(dir, run), { recursive: true, force: true }).catch(() => {})))
}
