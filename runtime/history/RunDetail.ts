/**
 * What `weft report` shows of one run, kept as `.weft/history/<run>.json`
 * for the runs the history keeps: each step's status, when it started, how
 * long it took, how often it tried, the critical path and how parallel the
 * run was. `RunRecorder` folds it from the run's events, beside the summary
 * every reporter shows, so the report agrees with what was on screen.
 */
import * as path from "node:path"
import { unreachable, type Event } from "../Event.ts"
import { SummaryBuilder, type StepLine } from "../Summary.ts"
import { recordOf, readText, type HistoryRecord, type RunHeader } from "./History.ts"

/** One step of a recorded run. */
export interface StepDetail {
  readonly id: string
  readonly status: StepLine["status"]
  /** Milliseconds from the run's start to the step's first attempt (or its cache answer); absent when it never started. */
  readonly startMs?: number | undefined
  readonly durationMs: number
  readonly attempts: number
  /** The first line of its error. */
  readonly error?: string | undefined
  /** Answered by the cache (or replayed by `--resume`) instead of running. */
  readonly cached: boolean
  /** What the cache or memoized calls saved it. */
  readonly savedMs?: number | undefined
}

/** One recorded run, in full. */
export interface RunDetail extends RunHeader {
  readonly concurrency: number
  /** In the order `run:start` announced them (dependency order). */
  readonly steps: ReadonlyArray<StepDetail>
  readonly criticalPath: ReadonlyArray<string>
  readonly criticalPathMs: number
  /** Busy step-time over wall time. */
  readonly parallelism: number
}

/** The report file of run `id` in the history folder `dir`. */
export const detailFile = (dir: string, id: string): string => path.join(dir, `${id}.json`)

/** Reads a run's detail; `undefined` when it was never kept, was trimmed, or is damaged. */
export const readRunDetail = async (dir: string, id: string): Promise<RunDetail | undefined> => {
  const text = await readText(detailFile(dir, id))
  try {
    const detail = JSON.parse(text) as RunDetail
    return typeof detail === "object" && detail !== null && Array.isArray(detail.steps) ? detail : undefined
  } catch {
    return undefined
  }
}

const firstLine = (text: string | undefined): string | undefined => (text === undefined ? undefined : text.split("\n", 1)[0])

/** Folds a run's events into its history record and detail; feed it every event. */
export class RunRecorder {
  readonly #summary = new SummaryBuilder()
  #run = ""
  #concurrency = 0
  readonly #startMs = new Map<string, number>()
  readonly #savedMs = new Map<string, number>()

  /** Folds in the next event of the run. */
  add(event: Event): void {
    this.#summary.add(event)
    switch (event.type) {
      case "run:start":
        this.#run = event.run
        this.#concurrency = event.concurrency
        return
      case "step:start":
        if (!this.#startMs.has(event.step)) this.#startMs.set(event.step, event.time)
        return
      case "step:end":
        // A cached step never starts: it is answered when it ends.
        if (event.status === "cached" && !this.#startMs.has(event.step)) this.#startMs.set(event.step, event.time - event.durationMs)
        if (event.savedMs !== undefined) this.#savedMs.set(event.step, event.savedMs)
        return
      case "step:ready":
      case "step:log":
      case "step:partial":
      case "step:progress":
      case "step:retry":
      case "step:waiting":
      case "step:memo":
      case "run:warning":
      case "run:end":
        return
      default:
        return unreachable(event)
    }
  }

  /** The run's id, from `run:start` ("" before it). */
  get run(): string {
    return this.#run
  }

  /** The run's line in `runs.ndjson`. */
  record(meta: { readonly startedAt: number; readonly file?: string | undefined }): HistoryRecord {
    return recordOf(this.#summary.summary(), { id: this.#run, ...meta })
  }

  /** The run's report, `<run>.json`. */
  detail(meta: { readonly startedAt: number; readonly file?: string | undefined }): RunDetail {
    const s = this.#summary.summary()
    return {
      id: this.#run,
      workflow: s.workflow,
      ...(meta.file === undefined ? {} : { file: meta.file }),
      status: s.status,
      startedAt: meta.startedAt,
      durationMs: s.durationMs,
      concurrency: this.#concurrency,
      steps: s.steps.map((line) => ({
        id: line.id,
        status: line.status,
        startMs: this.#startMs.get(line.id),
        durationMs: line.durationMs,
        attempts: line.attempts,
        error: firstLine(line.error),
        cached: line.status === "cached",
        savedMs: this.#savedMs.get(line.id)
      })),
      criticalPath: s.criticalPath,
      criticalPathMs: s.criticalPathMs,
      parallelism: s.parallelism,
      savedMs: s.savedMs
    }
  }
}
