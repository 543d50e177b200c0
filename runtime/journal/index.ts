/** Run journals: what a run finished, so that `weft run --resume` can continue it. */
export {
  journalFile,
  latestResumable,
  makeRunId,
  openJournal,
  parseJournal,
  readJournal,
  recordsOf,
  type JournalContents,
  type JournalEnd,
  type JournalHeader,
  type JournalRecord,
  type JournalWriter
} from "./Journal.ts"
export { openRunJournal, runsDir, type JournalSettings } from "./open.ts"
export { journaling, type JournalSetup, type Resumed, type RunJournal } from "./stage.ts"
