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
 * (`run` calls it before it reports the run's end). The file (and its
 * folder) is made at once, so a path that cannot be written fails before the
 * run starts; a write that fails later stops the writing, never the run, and
 * is kept in `error`.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs"
import * as path from "node:path"
import type { AnyEventObject, InspectionEvent, Observer } from "xstate"

/** One line of the file, as `JSON.parse` gives it back. */
export interface InspectionLine {
  readonly type: InspectionEvent["type"]
  readonly actor: { readonly id: string; readonly systemId?: string | undefined; readonly sessionId: string; readonly root?: true }
  /** The sender's `sessionId`, for an event. */
  readonly source?: string | undefined
  readonly event?: Record<string, unknown> | undefined
  readonly action?: { readonly type: string } | undefined
  readonly snapshot?: Record<string, unknown> | undefined
}

/** Buffered bytes written at once. */
const flushAt = 64 * 1024

/** An actor as a line names it; the run actor is marked `root`. */
const actorOf = (ref: Inspected, root: boolean): InspectionLine["actor"] =>
  root ? { id: ref.id, sessionId: ref.sessionId, root: true }
  : ref.systemId === undefined ? { id: ref.id, sessionId: ref.sessionId }
  : { id: ref.id, systemId: ref.systemId, sessionId: ref.sessionId }

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
export const inspectionWriter = (file: string): InspectionWriter => {
  mkdirSync(path.dirname(file), { recursive: true })
  const fd = openSync(file, "w")
  let buffer = ""
  let closed = false
  let first = true
  const flush = () => {
    if (buffer === "" || writer.failure !== undefined) return
    try {
      writeSync(fd, buffer)
    } catch (error) {
      writer.failure = error
    }
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
  const pending: Array<{ readonly ref: Inspected; readonly root: boolean }> = []
  const created = () => {
    if (pending.length === 0) return
    for (const { ref, root } of pending) write({ type: "@xstate.actor", actor: actorOf(ref, root) })
    pending.length = 0
  }
  const write = (line: InspectionLine) => {
    buffer += `${JSON.stringify(line)}\n`
    if (buffer.length >= flushAt) flush()
  }
  const writer: InspectionWriter = {
    failure: undefined,
    next: (inspected) => {
      if (closed) return
      created()
      const ref = inspected.actorRef as unknown as Inspected
      const root = ref.sessionId === inspected.rootId
      const actor = actorOf(ref, root)
      switch (inspected.type) {
        case "@xstate.actor":
          // XState announces an actor before it sets its systemId: written with the next line.
          pending.push({ ref, root })
          return
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
    complete: () => {
      if (closed) return
      created()
      closed = true
      flush()
      closeSync(fd)
    }
  }
  return writer
}

/** What `inspectionWriter` returns: an observer that closes its file on `complete`. */
export interface InspectionWriter extends Observer<InspectionEvent> {
  readonly next: (event: InspectionEvent) => void
  readonly complete: () => void
  /** Why writing stopped, if a write failed (a full disk). */
  failure: unknown
}
