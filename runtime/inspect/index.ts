/** Watching a run through XState's inspection API: `run(wf, { inspect })`, `weft run --inspect`. */
export { inspectionWriter, type InspectionLine, type InspectionWriter } from "./jsonl.ts"
