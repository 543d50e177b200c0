/**
 * A run as a Chrome trace (`weft run --trace out.json`), to open in
 * https://ui.perfetto.dev or chrome://tracing: one track per concurrency
 * slot, a bar per step attempt, so the gaps where slots sat idle and the
 * chain that decided the run's length are plain to see.
 *
 * The file is the JSON object form of the trace-event format:
 *
 * ```
 * { "traceEvents": [
 *     { "name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": { "name": "weft: ci-pipeline 20261125-225447-3f2a" } },
 *     { "name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": { "name": "slot 1" } },
 *     { "name": "build", "ph": "X", "ts": 31000, "dur": 22000, "pid": 1, "tid": 1, "args": { "status": "succeeded", "attempt": 1, "cached": false } },
 *     { "name": "lint", "ph": "i", "s": "t", "ts": 40000, "pid": 1, "tid": 0, "args": { "status": "cached", "cached": true, "savedMs": 120 } }
 *   ],
 *   "displayTimeUnit": "ms" }
 * ```
 *
 * Each attempt takes the lowest slot free when it starts and gives it back
 * when it ends or fails into a retry, so no two bars on a track overlap.
 * Cache answers take no slot: they are instants on the "cached" track (0).
 */
import * as path from "node:path"
import { writeAtomic } from "../internal/atomic.ts"
import { unreachable, type Event } from "../Event.ts"
import type { Reporter } from "../Reporter.ts"

/** One entry of `traceEvents`. */
export interface TraceEvent {
  readonly name: string
  readonly ph: "X" | "i" | "M"
  readonly pid: number
  readonly tid: number
  /** Microseconds since the run started. */
  readonly ts?: number
  readonly dur?: number
  readonly s?: "t"
  readonly cat?: string
  readonly args?: Readonly<Record<string, unknown>>
}

export interface Trace {
  readonly traceEvents: ReadonlyArray<TraceEvent>
  readonly displayTimeUnit: "ms"
}

const pid = 1
const us = (ms: number) => Math.round(ms * 1000)

/** Folds one run's events into its trace; `trace()` may be read at any time (open attempts end at the last event seen). */
export class TraceBuilder {
  #name = "weft"
  readonly #bars: Array<TraceEvent> = []
  /** Which attempt holds each slot; `undefined` is free. */
  readonly #slots: Array<string | undefined> = []
  readonly #open = new Map<string, { readonly slot: number; readonly startMs: number; readonly attempt: number }>()
  #cached = false
  #lastMs = 0

  /** Folds in the next event of the run. */
  add(event: Event): void {
    this.#lastMs = Math.max(this.#lastMs, event.time)
    switch (event.type) {
      case "run:start":
        this.#name = `weft: ${event.workflow} ${event.run}`
        return
      case "step:start": {
        let slot = this.#slots.indexOf(undefined)
        if (slot === -1) slot = this.#slots.push(undefined) - 1
        this.#slots[slot] = event.step
        this.#open.set(event.step, { slot, startMs: event.time, attempt: event.attempt })
        return
      }
      case "step:retry":
        this.#close(event.step, event.time, { status: "failed", retried: true, error: event.error })
        return
      case "step:end":
        if (this.#open.has(event.step)) {
          this.#close(event.step, event.time, { status: event.status, ...(event.error === undefined ? {} : { error: event.error }) })
        } else if (event.status === "cached") {
          this.#cached = true
          this.#bars.push({ name: event.step, cat: "step", ph: "i", s: "t", ts: us(event.time), pid, tid: 0, args: { status: "cached", cached: true, savedMs: event.savedMs ?? 0 } })
        }
        return
      case "step:ready":
      case "step:waiting":
      case "step:log":
      case "step:partial":
      case "step:progress":
      case "step:memo":
      case "run:warning":
      case "run:end":
        return
      default:
        return unreachable(event)
    }
  }

  #close(step: string, endMs: number, args: Record<string, unknown>): void {
    const open = this.#open.get(step)
    if (open === undefined) return
    this.#open.delete(step)
    this.#slots[open.slot] = undefined
    this.#bars.push({
      name: step,
      cat: "step",
      ph: "X",
      ts: us(open.startMs),
      dur: us(endMs) - us(open.startMs),
      pid,
      tid: open.slot + 1,
      args: { ...args, attempt: open.attempt, cached: false }
    })
  }

  /** The trace so far. */
  trace(): Trace {
    // Attempts still open (a watch session closed mid-run) end where the trace does.
    const open = [...this.#open].map(([step, a]): TraceEvent => ({
      name: step, cat: "step", ph: "X", ts: us(a.startMs), dur: us(this.#lastMs) - us(a.startMs), pid, tid: a.slot + 1, args: { status: "running", attempt: a.attempt, cached: false }
    }))
    const meta: Array<TraceEvent> = [{ name: "process_name", ph: "M", pid, tid: 0, args: { name: this.#name } }]
    for (let slot = 1; slot <= this.#slots.length; slot++) {
      meta.push({ name: "thread_name", ph: "M", pid, tid: slot, args: { name: `slot ${slot}` } })
      meta.push({ name: "thread_sort_index", ph: "M", pid, tid: slot, args: { sort_index: slot } })
    }
    if (this.#cached) {
      meta.push({ name: "thread_name", ph: "M", pid, tid: 0, args: { name: "cached" } })
      meta.push({ name: "thread_sort_index", ph: "M", pid, tid: 0, args: { sort_index: this.#slots.length + 1 } })
    }
    return { traceEvents: [...meta, ...this.#bars, ...open], displayTimeUnit: "ms" }
  }
}

export interface TraceWriterOptions {
  /** Where the trace goes; replaced at the end of each run. */
  readonly file: string
  /** Told when the file cannot be written (the run's outcome does not change). */
  readonly onError?: ((message: string) => void) | undefined
}

/**
 * A reporter that writes each run's trace to `file` when it ends (succeeded,
 * failed or cancelled), atomically: a viewer never opens half a file. In
 * watch mode each run replaces the last one's trace.
 *
 * @example
 * run(wf, { reporter: tee(plain(), traceWriter({ file: "trace.json" })) })
 */
export const traceWriter = (options: TraceWriterOptions): Reporter => {
  let builder: TraceBuilder | undefined
  let writing: Promise<void> = Promise.resolve()
  const file = path.resolve(options.file)
  const write = () => {
    if (builder === undefined) return
    const text = JSON.stringify(builder.trace())
    builder = undefined
    writing = writing.then(() =>
      writeAtomic({ tmpDir: path.dirname(file), target: file, durable: false, write: (handle) => handle.writeFile(text) }).catch((error: Error) => {
        options.onError?.(`cannot write the trace ${file}: ${error.message}`)
      })
    )
  }
  return {
    onEvent: (event) => {
      if (event.type === "run:start") builder = new TraceBuilder()
      builder?.add(event)
      if (event.type === "run:end") write()
    },
    onEnd: async () => {
      write()
      await writing
    },
    close: async () => {
      write()
      await writing
    }
  }
}
