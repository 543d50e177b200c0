/**
 * How long each step takes, from history: `.weft/history/steps/<workflow>.json`
 * keeps each step's last {@link keptDurations} durations from runs where its
 * body really ran and succeeded (a cache answer or a failure says nothing
 * about how long the work takes), and how many runs the workflow has had.
 *
 * The medians are the scheduler's step weights, superseding a step's
 * `estimate` once it has run (so the longest chains start first), and the ETA.
 * One small JSON file per workflow, so reading the estimates of a 500-step
 * workflow is one read and one parse, well under a millisecond.
 *
 * @example
 * const durations = await readDurations(".weft", "build")
 * await run(wf, { weftDir: ".weft", durations })
 */
import * as path from "node:path"
import { writeAtomic } from "../internal/atomic.ts"
import { safeFileName } from "../internal/safeFileName.ts"
import { historyDir, readRuns, readText } from "./History.ts"
import type { RunDetail } from "./RunDetail.ts"

/** Durations kept per step. */
export const keptDurations = 5

/** A step not seen in this many runs of its workflow is forgotten (it was renamed or removed). */
export const forgetAfterRuns = 50

/** The file's shape. */
interface StepTimes {
  readonly workflow: string
  /** Runs recorded so far. */
  readonly runs: number
  /** Per step: its recent durations (oldest first), and the run number that last had it. */
  readonly steps: Readonly<Record<string, { readonly ms: ReadonlyArray<number>; readonly seen: number }>>
}

/** The durations file of `workflow` in the history folder `dir`. */
export const durationsFile = (dir: string, workflow: string): string => path.join(dir, "steps", `${safeFileName(workflow)}.json`)

const readTimes = async (file: string): Promise<StepTimes | undefined> => {
  const text = await readText(file)
  if (text === "") return undefined
  try {
    const parsed = JSON.parse(text) as StepTimes
    return typeof parsed.runs === "number" && typeof parsed.steps === "object" && parsed.steps !== null ? parsed : undefined
  } catch {
    // Damaged (a full disk): the estimates start over, nothing else depends on them.
    return undefined
  }
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Each step's median recent duration (ms) in runs of `workflowName` beside
 * weft's folder `weftDir`; empty when there is no history. Pass it to `run`
 * as `durations`.
 */
export const readDurations = async (weftDir: string, workflowName: string): Promise<Map<string, number>> => {
  const times = await readTimes(durationsFile(historyDir(weftDir), workflowName))
  const durations = new Map<string, number>()
  if (times === undefined) return durations
  for (const [id, { ms }] of Object.entries(times.steps)) {
    if (Array.isArray(ms) && ms.length > 0) durations.set(id, median(ms))
  }
  return durations
}

/** The number the next run of `workflowName` will have: runs recorded so far, plus one. */
export const nextRunNumber = async (weftDir: string, workflowName: string): Promise<number> => {
  const times = await readTimes(durationsFile(historyDir(weftDir), workflowName))
  if (times !== undefined) return times.runs + 1
  // History from before the durations file: count the records.
  return (await readRuns(weftDir)).filter((r) => r.workflow === workflowName).length + 1
}

/**
 * Adds a finished run's durations; the caller holds the history lock.
 * `priorRuns` counts the workflow's runs when the file does not exist yet.
 */
export const recordDurations = async (dir: string, detail: RunDetail, priorRuns: () => Promise<number>): Promise<void> => {
  const file = durationsFile(dir, detail.workflow)
  const before = await readTimes(file)
  const runs = (before?.runs ?? (await priorRuns())) + 1
  // No prototype: a step may be called `__proto__` or `constructor`.
  const steps: Record<string, { ms: ReadonlyArray<number>; seen: number }> = Object.create(null)
  for (const [id, times] of Object.entries(before?.steps ?? {})) {
    if (runs - times.seen < forgetAfterRuns) steps[id] = times
  }
  for (const step of detail.steps) {
    const old = steps[step.id]?.ms ?? []
    const ran = step.status === "succeeded" && step.attempts > 0
    steps[step.id] = { ms: ran ? [...old, step.durationMs].slice(-keptDurations) : old, seen: runs }
  }
  const text = JSON.stringify({ workflow: detail.workflow, runs, steps } satisfies StepTimes)
  await writeAtomic({ tmpDir: dir, target: file, durable: false, write: (handle) => handle.writeFile(text) })
}
