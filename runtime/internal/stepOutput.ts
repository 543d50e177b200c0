/**
 * What a step printed and streamed, kept to be replayed later: by the cache
 * on a hit, by the run journal on `--resume`. Both keep it the same way, so a
 * replayed step looks the same whichever replayed it.
 */
import type { LogStream } from "../Event.ts"
import type { StepRun } from "../Pipeline.ts"

/** A step's log lines and streamed parts, as kept. */
export interface StepOutput {
  readonly logs: ReadonlyArray<{ readonly stream: LogStream; readonly text: string }>
  /**
   * The parts the step streamed (`step:partial`): each part's text, and how
   * many of `logs` came before it, so a replay interleaves them as they were.
   */
  readonly partials: ReadonlyArray<{ readonly text: string; readonly afterLogs: number }>
}

/** Log lines (and streamed parts) kept per step, at most: a step that prints more is replayed in part. */
export const maxLoggedLines = 10_000

/** A capture under way (see `captureOutput`). */
export interface OutputCapture {
  /**
   * Stops capturing (the taps that were set before are set again) and
   * returns what was kept; what was not is told in a last log line naming
   * `where` ("the cache").
   */
  readonly stop: (where: string) => StepOutput
}

/**
 * Starts keeping what `step` reports, through its `logTap` and `partialTap`.
 * A tap already set (an outer stage capturing too) still sees everything.
 */
export const captureOutput = (step: StepRun): OutputCapture => {
  const outerLog = step.logTap
  const outerPartial = step.partialTap
  const logs: Array<{ stream: LogStream; text: string }> = []
  let dropped = 0
  let partials: Array<{ text: string; afterLogs: number }> = []
  let droppedParts = 0
  step.logTap = (stream, text) => {
    outerLog?.(stream, text)
    if (logs.length < maxLoggedLines) logs.push({ stream, text })
    else dropped++
  }
  step.partialTap = (index, text) => {
    outerPartial?.(index, text)
    // A retry streams its result again from part 0: only the last attempt's parts are the result's.
    if (index === 0) {
      partials = []
      droppedParts = 0
    }
    if (partials.length < maxLoggedLines) partials.push({ text, afterLogs: logs.length })
    else droppedParts++
  }
  let stopped = false
  return {
    stop: (where) => {
      if (!stopped) {
        stopped = true
        step.logTap = outerLog
        step.partialTap = outerPartial
        if (dropped > 0) logs.push({ stream: "stderr", text: `weft: … ${dropped} more log lines were not kept in ${where}` })
        if (droppedParts > 0) logs.push({ stream: "stderr", text: `weft: … ${droppedParts} more streamed parts were not kept in ${where}` })
      }
      return { logs, partials }
    }
  }
}

/** Reports kept log lines and streamed parts, marked replayed, interleaved as the step produced them. */
export const replayOutput = (step: StepRun, output: StepOutput): void => {
  const { logs, partials } = output
  let shown = 0
  const logsUpTo = (end: number) => {
    for (; shown < Math.min(end, logs.length); shown++) {
      step.report({ kind: "log", stream: logs[shown]!.stream, text: logs[shown]!.text, replayed: true })
    }
  }
  partials.forEach((part, index) => {
    logsUpTo(part.afterLogs)
    step.report({ kind: "partial", index, text: part.text, replayed: true })
  })
  logsUpTo(logs.length)
}
