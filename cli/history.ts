/**
 * `weft history [file]` lists a folder's recent runs; `weft report [run]
 * [file]` shows one of them step by step. Both read `.weft/history` beside
 * the workflow (the file, default `weft.ts`, only says which folder), which
 * every `weft run` writes.
 */
import { existsSync, statSync } from "node:fs"
import * as path from "node:path"
import { defaultWeftDir } from "../runtime/weftDir.ts"
import { runsDir } from "../runtime/journal/open.ts"
import { historyDir, readRuns, type HistoryRecord } from "../runtime/history/History.ts"
import { readRunDetail } from "../runtime/history/RunDetail.ts"
import { journalFile } from "../runtime/journal/Journal.ts"
import { UsageError, type Io } from "./common.ts"
import { parseFlags } from "./flags.ts"
import { findJournal, renderJournalReport } from "./journalReport.ts"
import { renderHistory, renderReport } from "./historyView.ts"
import { historySpec, reportSpec } from "./specs.ts"

const workflowFile = /\.(ts|mts|cts|js|mjs|cjs|json|ya?ml)$/i

/** The folder `file` points at: its folder if it is a file, itself if a folder, else the current folder. */
const folderOf = (cwd: string, file: string | undefined): string => {
  const absolute = path.resolve(cwd, file ?? "weft.ts")
  if (existsSync(absolute)) return statSync(absolute).isDirectory() ? absolute : path.dirname(absolute)
  if (file !== undefined) throw new UsageError(`no such file or folder: ${file}`)
  return cwd
}

/**
 * The runs recorded beside the workflow `file` points at, oldest first. A
 * named workflow file narrows the folder's runs to that file's, so that `-1`
 * means the same run to `weft history` and `weft report`.
 */
const runsOf = async (cwd: string, file: string | undefined) => {
  const weftDir = path.resolve(defaultWeftDir(folderOf(cwd, file)))
  const records = await readRuns(weftDir)
  const named = file !== undefined && workflowFile.test(file)
  return { weftDir, records: named ? records.filter((r) => r.file !== undefined && path.basename(r.file) === path.basename(file)) : records }
}

/** Runs `weft history [file] [--last N] [--json]`. */
export const historyCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseFlags(historySpec, args)
  if (positionals.length > 1) throw new UsageError(`history takes one file, got ${positionals.join(" ")}`)
  const last = values.last ?? 20
  const { weftDir, records } = await runsOf(io.cwd, positionals[0])
  const shown = records.slice(Math.max(0, records.length - last))
  if (values.json) io.stdout(`${JSON.stringify(shown)}\n`)
  else if (shown.length === 0) io.stdout(`no runs recorded in ${historyDir(weftDir)} yet: each \`weft run\` adds one\n`)
  else io.stdout(renderHistory(shown, records.length))
  return 0
}

/** Runs `weft report [run] [file] [--json]`. */
export const reportCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  // `-1` reads as an option to parseArgs: take the relative index out first.
  const relative = args.filter((a) => /^-\d+$/.test(a))
  const { values, positionals } = parseFlags(reportSpec, args.filter((a) => !/^-\d+$/.test(a)))
  const files = positionals.filter((p) => workflowFile.test(p) || existsSync(path.resolve(io.cwd, p)))
  const refs = [...relative, ...positionals.filter((p) => !files.includes(p))]
  if (refs.length > 1 || files.length > 1) throw new UsageError(`report takes one run and one file, got ${args.join(" ")}`)
  const { weftDir, records } = await runsOf(io.cwd, files[0])
  const dir = historyDir(weftDir)
  const found = resolveRun(records, refs[0] ?? "-1")
  if (typeof found === "string") {
    // A run that never ended has no history record, but its journal names it by the same id.
    const runs = runsDir(weftDir)
    const journal = refs[0] === undefined || /^-\d+$/.test(refs[0]) ? undefined : await findJournal(runs, refs[0])
    if (journal !== undefined) {
      io.stdout(renderJournalReport(journal, path.relative(io.cwd, journalFile(runs, journal.header.run)), values.json))
      return 0
    }
    io.stderr(`weft: ${found}\n`)
    return 2
  }
  const detail = await readRunDetail(dir, found.id)
  if (detail === undefined) {
    io.stderr(`weft: run ${found.id} has no report in ${dir}: runs from before weft kept reports have none. \`weft history\` lists the runs.\n`)
    return 2
  }
  io.stdout(values.json ? `${JSON.stringify(detail)}\n` : renderReport(detail))
  return 0
}

/** The run `ref` names among `records` (oldest first), or what is wrong. */
export const resolveRun = (records: ReadonlyArray<HistoryRecord>, ref: string): HistoryRecord | string => {
  const recent = () => {
    const ids = records.slice(-5).map((r) => r.id).reverse()
    return ids.length === 0 ? "no runs are recorded here yet: `weft run` records each run" : `recent runs: ${ids.join(", ")} (\`weft history\` lists more)`
  }
  if (/^-\d+$/.test(ref)) {
    const n = -Number(ref)
    if (n >= 1 && n <= records.length) return records[records.length - n]!
    return records.length === 0 ? recent() : `there is no run ${ref}: ${records.length} ${records.length === 1 ? "run is" : "runs are"} recorded. ${recent()}`
  }
  const exact = records.find((r) => r.id === ref)
  if (exact !== undefined) return exact
  const matches = records.filter((r) => r.id.startsWith(ref))
  if (matches.length === 1) return matches[0]!
  if (matches.length > 1) return `"${ref}" names ${matches.length} runs: ${matches.map((r) => r.id).slice(-5).join(", ")}. Give more of the id.`
  return `no run "${ref}". ${recent()}`
}
