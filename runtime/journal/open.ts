/**
 * Opening the journal of a run about to start, and finding the run it
 * resumes.
 */
import * as path from "node:path"
import type { Workflow } from "../../dsl/Workflow.ts"
import { defaultCacheDir, type CacheSettings } from "../cache/runCache.ts"
import { latestResumable, makeRunId, openJournal, recordsOf, type JournalWriter } from "./Journal.ts"
import type { JournalSetup, Resumed } from "./stage.ts"

/** How a run uses its journal. */
export interface JournalSettings {
  /** The runs folder (default: `runs` beside the cache folder, `.weft/runs`). */
  readonly dir?: string | undefined
  /** Replay what the newest unfinished run of this workflow recorded. */
  readonly resume?: boolean | undefined
  /** The workflow file, recorded in the header. */
  readonly file?: string | undefined
  /** Runs kept, the newest (default 20). */
  readonly keep?: number | undefined
}

/** The runs folder: `runs` beside the cache folder. */
export const runsDir = (cache: CacheSettings | undefined, cwd: string | undefined): string => {
  const root = path.resolve(cache?.root ?? cwd ?? process.cwd())
  return path.join(path.resolve(cache?.dir ?? defaultCacheDir(root)), "..", "runs")
}

/**
 * Opens a new run's journal; with `resume`, first reads what the run it
 * resumes recorded. Trouble with the journal is a warning, never a failed
 * run: the run goes on unjournaled.
 */
export const openRunJournal = async (wf: Workflow<any>, dir: string, settings: JournalSettings): Promise<JournalSetup> => {
  const early: Array<string> = []
  let sink: (message: string) => void = (message) => void early.push(message)
  const onError = (message: string) => sink(message)
  let resumed: Resumed | undefined
  if (settings.resume) {
    try {
      const previous = await latestResumable(dir, wf.name)
      if (previous === undefined) onError(`--resume: no unfinished run of "${wf.name}" to resume; running it from the start`)
      else resumed = { run: previous.header.run, records: await recordsOf(dir, previous) }
    } catch (error) {
      onError(`--resume: cannot read the run journals in ${dir} (${describe(error)}); running it from the start`)
    }
  }
  let writer: JournalWriter
  try {
    writer = await openJournal(
      dir,
      { run: makeRunId(), workflow: wf.name, file: settings.file, startedAt: Date.now(), resumes: resumed?.run },
      { onError, keep: settings.keep }
    )
  } catch (error) {
    onError(`cannot open a run journal in ${dir} (${describe(error)}); this run cannot be resumed`)
    writer = { run: "", record: () => {}, close: async () => {}, discard: async () => {} }
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

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
