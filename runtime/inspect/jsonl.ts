/**
 * XState's inspection events of a run, one JSON object per line: the file
 * `weft run --inspect run.jsonl` writes, for tools and for bug reports.
 *
 * Each line has the event's `type` and its actor (`id`, `systemId` for a
 * step actor, which is the step's id, and `sessionId`), then what the event
 * carries, kept small: an event's arrays as their lengths (a batch of 64
 * reports is `"updates": 64`), an action's type without its params, the run
 * actor's snapshot as its state, status and progress (every step's status on
 * its first and last snapshot only: 100,000 of them per batch would make the
 * file O(n²)), and a step actor's snapshot whole (it is small).
 *
 * Lines are written synchronously through a buffer, so the file holds every
 * event up to the moment it is closed; `complete()` flushes and closes it
 * (`run` calls it before it reports the run's end).
 */
import { closeSync, openSync, writeSync } from "node:fs"
import type { AnyEventObject, InspectionEvent, Observer } from "xstate"

/** One line of the file, as `JSON.parse` gives it back. */
export interface InspectionLine {
  readonly type: InspectionEvent["type"]
  readonly actor: { readonly id: string; readonly systemId?: string | undefined; readonly sessionId: string }
  /** The sender's `sessionId`, for an event. */
  readonly source?: string | undefined
  readonly event?: Record<string, unknown> | undefined
  readonly action?: { readonly type: string } | undefined
  readonly snapshot?: Record<string, unknown> | undefined
}

/** Buffered bytes written at once. */
const flushAt = 64 * 1024

interface Inspected {
  readonly id: string
  readonly systemId?: string | undefined
  readonly sessionId: string
}

/** An event as a line shows it: arrays by their length. */
const eventOf = (event: AnyEventObject): Record<string, unknown> => {
  const shown: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(event)) shown[key] = Array.isArray(value) ? value.length : value
  return shown
}

interface RunSnapshot {
  readonly value: unknown
  readonly status: string
  readonly context?: { readonly progress?: unknown; readonly steps?: unknown } | undefined
  readonly output?: unknown
  readonly children?: Readonly<Record<string, unknown>> | undefined
}

/**
 * An observer for `createActor(machine, { inspect })` (or `run(wf, {
 * inspect })`) writing `file`, created on the first event.
 *
 * @example
 * const writer = inspectionWriter("run.jsonl")
 * await run(wf, { inspect: writer })   // run closes it before its end is reported
 */
export const inspectionWriter = (file: string): Observer<InspectionEvent> & { readonly complete: () => void } => {
  let fd: number | undefined
  let buffer = ""
  let closed = false
  let first = true
  const flush = () => {
    if (buffer === "") return
    fd ??= openSync(file, "w")
    writeSync(fd, buffer)
    buffer = ""
  }
  const snapshotOf = (inspected: InspectionEvent & { readonly type: "@xstate.snapshot" }, root: boolean): Record<string, unknown> => {
    const snapshot = inspected.snapshot as unknown as RunSnapshot
    if (!root) {
      return "value" in snapshot
        ? { status: snapshot.status, value: snapshot.value }
        : { ...(snapshot as unknown as Record<string, unknown>) }
    }
    const whole = first || snapshot.status !== "active"
    first = false
    return {
      value: snapshot.value,
      status: snapshot.status,
      progress: snapshot.context?.progress,
      children: Object.keys(snapshot.children ?? {}),
      ...(whole ? { steps: snapshot.context?.steps } : {})
    }
  }
  const write = (line: InspectionLine) => {
    buffer += `${JSON.stringify(line)}\n`
    if (buffer.length >= flushAt) flush()
  }
  return {
    next: (inspected) => {
      if (closed) return
      const ref = inspected.actorRef as unknown as Inspected
      const actor = ref.systemId === undefined ? { id: ref.id, sessionId: ref.sessionId } : { id: ref.id, systemId: ref.systemId, sessionId: ref.sessionId }
      const root = ref.sessionId === inspected.rootId
      switch (inspected.type) {
        case "@xstate.actor":
          return write({ type: inspected.type, actor })
        case "@xstate.event": {
          const source = (inspected.sourceRef as unknown as Inspected | undefined)?.sessionId
          return write({ type: inspected.type, actor, ...(source === undefined ? {} : { source }), event: eventOf(inspected.event) })
        }
        case "@xstate.snapshot":
          return write({ type: inspected.type, actor, event: { type: inspected.event.type }, snapshot: snapshotOf(inspected, root) })
        case "@xstate.action":
          return write({ type: inspected.type, actor, action: { type: inspected.action.type } })
        case "@xstate.microstep":
        case "@xstate.transition":
          return write({ type: inspected.type, actor, event: { type: inspected.event.type } })
      }
    },
    error: () => {},
    complete: () => {
      if (closed) return
      closed = true
      flush()
      if (fd !== undefined) closeSync(fd)
    }
  }
}
