/**
 * A recorded run as the invariants see it: the events, the model the workflow
 * was generated from (for what events do not carry: optional steps, planned
 * failures), and optionally the points at which the run was known to be quiet.
 */
import { unreachable, type Event } from "../runtime/Event.ts"
import { describeModel, UNLIMITED, type WorkflowModel } from "./arbitraries.ts"

export interface Trace {
  readonly model: WorkflowModel
  readonly events: ReadonlyArray<Event>
  /**
   * Event counts after which nothing was in flight: every dispatched step had
   * announced its start. Runs on real promises record them; on virtual time
   * the ends of instants are used instead (see `checkpointsOf`).
   */
  readonly checkpoints?: ReadonlyArray<number> | undefined
  /** When the run's signal was aborted (virtual ms), if it was. */
  readonly abortAt?: number | undefined
}

/** The event counts at the end of each instant (the last event of each distinct time, run:end excluded). */
export const instantEnds = (events: ReadonlyArray<Event>): Array<number> => {
  const ends: Array<number> = []
  events.forEach((event, i) => {
    if (event.type === "run:end") return
    const next = events[i + 1]
    if (next === undefined || next.time !== event.time || next.type === "run:end") ends.push(i + 1)
  })
  return ends
}

/** Where work conservation is checked: the recorded quiet points, else the ends of instants. */
export const checkpointsOf = (trace: Trace): ReadonlyArray<number> => trace.checkpoints ?? instantEnds(trace.events)

/** One event on one line. */
export const formatEvent = (event: Event): string => {
  const t = String(event.time).padStart(5)
  switch (event.type) {
    case "run:start":
      return `${t}  run:start     ${event.workflow}, concurrency ${event.concurrency === UNLIMITED ? "unlimited" : event.concurrency}, ${event.steps.length} steps`
    case "step:ready":
      return `${t}  step:ready    ${event.step}`
    case "step:start":
      return `${t}  step:start    ${event.step} attempt ${event.attempt}`
    case "step:log":
      return `${t}  step:log      ${event.step} [${event.stream}] ${event.text}`
    case "step:partial":
      return `${t}  step:partial  ${event.step} #${event.index} ${event.text}`
    case "step:progress":
      return `${t}  step:progress ${event.step} ${event.done}/${event.total ?? "?"}`
    case "step:waiting":
      return `${t}  step:waiting  ${event.step} (${event.reason})`
    case "step:retry":
      return `${t}  step:retry    ${event.step} after attempt ${event.attempt}, wait ${event.delayMs} ms (${event.error})`
    case "step:end":
      return `${t}  step:end      ${event.step} ${event.status} after ${event.durationMs} ms, ${event.attempts} attempt(s)${event.error === undefined ? "" : ` (${event.error})`}`
    case "run:warning":
      return `${t}  run:warning   ${event.message}`
    case "step:memo":
      return `${t}  step:memo     ${event.step} ${event.name} ${event.outcome}`
    case "run:end":
      return `${t}  run:end       ${event.status} after ${event.durationMs} ms`
    default:
      return unreachable(event)
  }
}

/** The events, one a line, with quiet points marked when they are not the ends of instants. */
export const formatEvents = (events: ReadonlyArray<Event>, checkpoints?: ReadonlyArray<number>): string => {
  const marks = new Set(checkpoints ?? [])
  const lines: Array<string> = []
  events.forEach((event, i) => {
    if (marks.has(i)) lines.push("        -- quiet --")
    lines.push(`  #${String(i).padEnd(3)}${formatEvent(event)}`)
  })
  if (marks.has(events.length)) lines.push("        -- quiet --")
  return lines.join("\n")
}

/** The graph, then the trace: what a failing property prints. */
export const formatTrace = (trace: Trace): string =>
  `${describeModel(trace.model)}${trace.abortAt === undefined ? "" : `\naborted at ${trace.abortAt} ms`}\ntrace (time ms, event):\n${formatEvents(trace.events, trace.checkpoints)}`
