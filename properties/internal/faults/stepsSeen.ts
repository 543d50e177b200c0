/** What a run's events say of each step: how many attempts started, and how it ended. */
import type { Event, EventOf } from "../../../runtime/Event.ts"

export interface StepsSeen {
  /** By step id: `step:start` events (attempts that began). */
  readonly starts: ReadonlyMap<string, number>
  /** By step id: its `step:end`. */
  readonly ends: ReadonlyMap<string, EventOf<"step:end">>
}

export const stepsSeen = (events: ReadonlyArray<Event>): StepsSeen => {
  const starts = new Map<string, number>()
  const ends = new Map<string, EventOf<"step:end">>()
  for (const event of events) {
    if (event.type === "step:start") starts.set(event.step, (starts.get(event.step) ?? 0) + 1)
    else if (event.type === "step:end") ends.set(event.step, event)
  }
  return { starts, ends }
}

/** The status in an outcome string (`observe`'s: status first), a replay counted as the success it replays. */
export const statusOf = (outcome: string | undefined): string | undefined => {
  const status = outcome?.split(" ")[0]
  return status === "cached" ? "succeeded" : status
}
