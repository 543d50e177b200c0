/**
 * What travels over Redis between a coordinator (`weft run --workers`) and its
 * workers (`weft worker`): one BullMQ job per attempt of a ready step, the
 * reports a worker publishes while it runs it, and the broadcast that cancels
 * it. Values (inputs, outputs) travel as `serializeValue`'s bytes, so a Map or
 * a Date arrives as it left, as it would from the cache. Secrets never travel:
 * a worker reads its own environment.
 */
import { deserializeValue, serializeValue } from "../cache/serialize.ts"
import type { StepReportBody } from "../StepReport.ts"
import type { TravelFile } from "./travelFiles.ts"

/** The queue every coordinator and worker of a Redis database share (a project per database, or per `prefix`). */
export const queueName = "steps"

/** The prefix of every key weft keeps in Redis (BullMQ's and its own). */
export const prefix = "weft"

/** One attempt of one step, as a job's data. */
export interface StepJob {
  /** The coordinator's run: its reports channel and leases are named after it. */
  readonly run: string
  /** The workflow file, relative to the project root, with `/` separators. */
  readonly file: string
  /** `moduleGraphDigest` of the file on the coordinator: a worker whose checkout differs refuses the job. */
  readonly digest: string
  readonly step: string
  readonly attempt: number
  /** The inputs, `serializeValue`'s bytes in base64. */
  readonly inputs: string
  /** `--allow-all` on the coordinator: the step sees the worker's whole environment. */
  readonly allowAll: boolean
  /**
   * The declared output files of the steps ordered before this one, as the
   * coordinator's folder has them (`encodeFiles`), written into the worker's
   * folder before the body runs (`travelFiles.ts`). Absent: none.
   */
  readonly files?: string | undefined
}

/** A step's result as it travels back: its value (`encodeValue`'s) and its declared output files (`encodeFiles`'s). */
export interface StepResult {
  readonly value: string
  readonly files?: string | undefined
}

/**
 * A job's id: one per run, step and attempt, so adding it twice adds it once
 * (BullMQ ignores an existing id). BullMQ refuses `:` in ids, which
 * `encodeURIComponent` escapes.
 */
export const jobIdOf = (run: string, step: string, attempt: number): string =>
  `${encodeURIComponent(run)}.${encodeURIComponent(step)}.${attempt}`

/** The channel a run's reports come back on. */
export const reportsChannel = (run: string): string => `${prefix}:reports:${run}`

/** The channel every worker listens to for cancellations (BullMQ's `cancelJob` reaches one worker only). */
export const cancelChannel = `${prefix}:cancel`

/** The key of the lease that lets one delivery of a step of a run run its body at a time. */
export const leaseKey = (run: string, step: string): string => `${prefix}:lease:${run}:${step}`

/**
 * What a worker publishes about a job, in order on one connection: its
 * reports (the first its start on `worker`), then its end: the output
 * (`encodeValue`'s) or the failure. The end travels with the reports, not
 * only as BullMQ's completion event on another connection, so that the run
 * hears a step's start and logs before its end: seen otherwise, a fast
 * step's end overtook its start.
 */
export interface ReportMessage {
  readonly job: string
  readonly worker: string
  readonly report?: StepReportBody | undefined
  readonly end?: StepResult | { readonly error: string } | undefined
}

/** A cancellation: every job of `run`, or only `job`. */
export interface CancelMessage {
  readonly run: string
  readonly job?: string | undefined
}

export const encodeValue = (value: unknown, step: string, root: "inputs" | "outputs"): string =>
  Buffer.from(serializeValue(value, { step, root })).toString("base64")

export const decodeValue = (text: string): unknown => deserializeValue(Buffer.from(text, "base64"))

/** Files by the step that declared them, as `serializeValue`'s bytes in base64. */
export const encodeFiles = (files: ReadonlyArray<{ readonly step: string; readonly files: ReadonlyArray<TravelFile> }>): string | undefined =>
  files.every((group) => group.files.length === 0) ? undefined : Buffer.from(serializeValue(files, { step: "files", root: "outputs" })).toString("base64")

export const decodeFiles = (text: string | undefined): Array<{ readonly step: string; readonly files: ReadonlyArray<TravelFile> }> =>
  text === undefined ? [] : deserializeValue(Buffer.from(text, "base64")) as Array<{ readonly step: string; readonly files: ReadonlyArray<TravelFile> }>

/**
 * Set when a run (or one of its jobs) is cancelled, before the broadcast: a
 * worker that takes the job after the broadcast went out (it was between
 * the queue and its list of running jobs) finds it and does not run it.
 */
export const cancelledKey = (run: string, job?: string): string => `${prefix}:cancelled:${run}${job === undefined ? "" : `:${job}`}`
