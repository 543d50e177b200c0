/** Run journals: what a run finished, so that `weft run --resume` can continue it. */
export {
  chainOf,
  journalFile,
  latestResumable,
  openJournal,
  parseJournal,
  readJournal,
  recordsOf,
  type JournalContents,
  type JournalDamage,
  type JournalEnd,
  type JournalHeader,
  type JournalRecord,
  type JournalWriter
} from "./Journal.ts"
export { openLine, sealLine, type OpenedLine } from "./seal.ts"
export { openRunJournal, runsDir, type JournalSettings } from "./open.ts"
export { journaling, type JournalSetup, type Resumed, type RunJournal } from "./stage.ts"
