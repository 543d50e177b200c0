/**
 * `weft report <run>` for a run the history never heard of because it never
 * ended (killed, or the machine went down): its run journal still says what
 * it finished, under the same id that `--resume` names ("resumed from run
 * …"), so that id is accepted everywhere.
 */
import { readdir } from "node:fs/promises"
import * as path from "node:path"
import { readJournal, type JournalContents } from "../runtime/journal/Journal.ts"

/** The journal of the run `ref` names (its id, or a prefix naming one run) under `runsDir`, if any. */
export const findJournal = async (runsDir: string, ref: string): Promise<JournalContents | undefined> => {
  const runs = await readdir(runsDir).catch(() => [] as Array<string>)
  const matches = runs.includes(ref) ? [ref] : runs.filter((run) => !run.startsWith(".") && run.startsWith(ref))
  return matches.length === 1 ? readJournal(runsDir, matches[0]!).catch(() => undefined) : undefined
}

/** What a journal says of its run, for people (`json`: for programs). */
export const renderJournalReport = (journal: JournalContents, file: string, json: boolean): string => {
  const { header, end } = journal
  const steps = [...journal.records.values()].map((r) => ({ id: r.step, durationMs: r.durationMs }))
  if (json) {
    return `${JSON.stringify({ id: header.run, workflow: header.workflow, file: header.file, startedAt: header.startedAt, status: end ?? "unfinished", steps })}\n`
  }
  const how = end === undefined
    ? "did not finish: it was stopped (killed, or the machine went down) before it could say how it ended, so the history has no report of it"
    : `ended ${end}, but the history has no report of it`
  const lines = [
    `run ${header.run} of ${header.workflow}${header.file === undefined ? "" : ` (${path.basename(header.file)})`}, started ${new Date(header.startedAt).toLocaleString()}`,
    `It ${how}.`,
    steps.length === 0
      ? `Its journal (${file}) recorded no finished step.`
      : `Its journal (${file}) recorded ${steps.length} finished step${steps.length === 1 ? "" : "s"}: ${steps.map((s) => `${s.id} (${s.durationMs} ms)`).join(", ")}.`,
    ...(end === "succeeded" ? [] : ["`weft run --resume` continues it, replaying those steps."])
  ]
  return `${lines.join("\n")}\n`
}
