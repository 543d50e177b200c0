/**
 * Opening the journal of a run about to start, and finding the run it
 * resumes.
 */
import * as path from "node:path"
import type { Workflow } from "../../dsl/Workflow.ts"
import { isErrno } from "../internal/atomic.ts"
import { chainOf, latestResumable, openJournal, type JournalContents, type JournalRecord, type JournalWriter } from "./Journal.ts"
import type { JournalSetup, Resumed } from "./stage.ts"

/** How a run uses its journal. */
export interface JournalSettings {
  /** The runs folder (default: `runs` in weft's folder, `.weft/runs`). */
  readonly dir?: string | undefined
  /** Replay what the newest unfinished run of this workflow recorded. */
  readonly resume?: boolean | undefined
  /** The workflow file, recorded in the header. */
  readonly file?: string | undefined
  /** Runs kept, the newest (default 20). */
  readonly keep?: number | undefined
}

/** The run's id, and where another comes from if a journal already has it. */
export interface JournalIds {
  /** The run's id (`run:start`'s): the journal is named by it. */
  readonly run: string
  /**
   * A fresh id, for when a journal named `run` exists already (two runs
   * started in one second drew one suffix). Without it (the caller chose the
   * id), such a run goes unjournaled rather than share a journal.
   */
  readonly fresh?: (() => string) | undefined
}

/** The runs folder in weft's folder `weftDir` (`.weft/runs`). */
export const runsDir = (weftDir: string): string => path.join(path.resolve(weftDir), "runs")

/**
 * Opens a new run's journal, named by the run's id (`writer.run`, which the
 * caller announces as the run's id: see `JournalIds.fresh`); with `resume`,
 * first reads what the run it resumes recorded. Trouble with the journal is
 * a warning, never a failed run: the run goes on unjournaled.
 */
export const openRunJournal = async (wf: Workflow<any>, dir: string, settings: JournalSettings, ids: JournalIds): Promise<JournalSetup> => {
  const early: Array<string> = []
  let sink: (message: string) => void = (message) => void early.push(message)
  const onError = (message: string) => sink(message)
  let resumed: Resumed | undefined
  if (settings.resume) {
    try {
      const previous = await latestResumable(dir, wf.name)
      if (previous === undefined) onError(`--resume: no unfinished run of "${wf.name}" to resume; running it from the start`)
      else {
        const chain = await chainOf(dir, previous)
        const records = new Map<string, JournalRecord>()
        for (const journal of chain) for (const [step, record] of journal.records) records.set(step, record)
        for (const message of damageWarnings(chain, records)) onError(message)
        resumed = { run: previous.header.run, records }
      }
    } catch (error) {
      onError(`--resume: cannot read the run journals in ${dir} (${describe(error)}); running it from the start`)
    }
  }
  let writer: JournalWriter | undefined
  for (let run = ids.run, tries = 0; writer === undefined; run = ids.fresh!(), tries++) {
    try {
      writer = await openJournal(
        dir,
        { run, workflow: wf.name, file: settings.file, startedAt: Date.now(), resumes: resumed?.run },
        { onError, keep: settings.keep }
      )
    } catch (error) {
      if (isErrno(error, "EEXIST") && ids.fresh !== undefined && tries < 5) continue
      const why = isErrno(error, "EEXIST") ? `a journal of run ${run} exists already` : describe(error)
      onError(`cannot open a run journal in ${dir} (${why}); this run cannot be resumed`)
      writer = { run: "", record: () => {}, close: async () => {}, discard: async () => {} }
    }
  }
  return {
    writer,
    dir,
    resumed,
    listen: (warn) => {
      sink = warn
      for (const message of early.splice(0)) warn(message)
    }
  }
}

/**
 * One warning per damaged line of the journals resumed, naming its step and
 * whether it runs again (no trustworthy record of it is left) or another
 * record of it (an earlier run's, say) stands in.
 */
const damageWarnings = (chain: ReadonlyArray<JournalContents>, records: ReadonlyMap<string, JournalRecord>): Array<string> =>
  chain.flatMap((journal, i) =>
    // Damage in a run resumed before was told then: again only while it still costs a step.
    journal.damaged.filter((damage) => i === chain.length - 1 || damage.step === undefined || !records.has(damage.step)).map((damage) => {
      const what = damage.step === undefined ? `a record (line ${damage.line})` : `the record of step ${damage.step} (line ${damage.line})`
      const how = damage.torn ? "was cut short (the run was killed while writing it)" : "is damaged (its checksum does not match its bytes)"
      const then = damage.step === undefined
        ? "the step it recorded runs again"
        : records.has(damage.step)
        ? `another record of ${damage.step} is used instead`
        : `${damage.step} runs again`
      return `--resume: ${what} in the journal of run ${journal.header.run} ${how}; ${then}`
    })
  )

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
