/**
 * Routes direct writes to `process.stdout` / `process.stderr` made inside a
 * function step to that step's log, like its `console` calls
 * (`consoleCapture.ts`, whose AsyncLocalStorage finds the step): there they
 * are masked and attributed, and on `--reporter json` stdout keeps only
 * events. A write made outside any step goes out as before.
 *
 * weft's own output (reporters, the dashboard, the command line) is written
 * with the streams' own `write`, saved when the capture is installed
 * ({@link writeStdout}, {@link writeStderr}, {@link unpatchedStdout}): a
 * reporter may be called while a step's context is current (the step's
 * report woke the fiber that delivers events), and its text must not be
 * taken for the step's.
 */
import { makeLineSplitter, maxLineBytes, type LineSplitter } from "./lineSplitter.ts"
import { currentSink, type LogSink } from "./consoleCapture.ts"
import { saved, type Stream, type WriteFn } from "../stdio.ts"

// Looked up when used, not kept from when this module loaded: the start-up
// snapshot (cli/snapshot/) loads it in the process that makes the snapshot.
const streamOf = (name: Stream): NodeJS.WriteStream => (name === "stdout" ? process.stdout : process.stderr)
let installs = 0
/** Each step's unfinished lines, per stream: a write need not end with a newline. */
const pending = new WeakMap<LogSink, Partial<Record<Stream, LineSplitter>>>()

export { unpatchedStdout, writeStderr, writeStdout } from "../stdio.ts"

/** Open {@link reservingStdout} calls. */
let reserved = 0

/**
 * While `f` runs, stdout belongs to weft's own output (the JSON reporter's
 * events): during a run, a write to it that no step made (a timer the
 * workflow's module started, a callback of a stream opened when it loaded)
 * goes to stderr instead, so a tool reading the events never meets a line
 * that is not one.
 */
export const reservingStdout = async <A>(f: () => Promise<A>): Promise<A> => {
  reserved++
  try {
    return await f()
  } finally {
    reserved--
  }
}

/** Patches both streams while at least one run is active; returns the undo. */
export const installWriteCapture = (): (() => void) => {
  if (installs++ === 0) {
    saved.current = {}
    for (const name of ["stdout", "stderr"] as const) {
      const stream = streamOf(name)
      const original = stream.write
      saved.current[name] = { write: original, own: Object.prototype.hasOwnProperty.call(stream, "write") }
      stream.write = function(this: NodeJS.WriteStream, chunk: unknown, encoding?: unknown, callback?: unknown) {
        const sink = currentSink()
        if (sink === undefined) {
          const stray = name === "stdout" && reserved > 0
          const write = (stray ? saved.current.stderr!.write : original) as (...args: Array<unknown>) => boolean
          return write.call(stray ? process.stderr : this, chunk, encoding, callback)
        }
        if (!wholeLines(sink, name, chunk, encoding)) splitterOf(sink, name).push(toBytes(chunk, typeof encoding === "string" ? encoding as BufferEncoding : undefined))
        const done = typeof encoding === "function" ? encoding : callback
        if (typeof done === "function") process.nextTick(done as () => void)
        return true
      } as WriteFn
    }
  }
  let undone = false
  return () => {
    if (undone) return
    undone = true
    if (--installs !== 0) return
    for (const name of ["stdout", "stderr"] as const) {
      const entry = saved.current[name]
      if (entry === undefined) continue
      if (entry.own) streamOf(name).write = entry.write
      else delete (streamOf(name) as { write?: WriteFn }).write
    }
    saved.current = {}
  }
}

/** Delivers what `sink`'s step wrote without a final newline, as its last lines: call it when the step's body ends. */
export const flushWrites = (sink: LogSink): void => {
  const splitters = pending.get(sink)
  if (splitters === undefined) return
  pending.delete(sink)
  splitters.stdout?.end()
  splitters.stderr?.end()
}

/**
 * The usual write, text of whole short lines from a step with no unfinished
 * line, handed over as lines without going through bytes: half the cost of
 * a captured line (8 µs to 4 µs, as `console.log`).
 */
const wholeLines = (sink: LogSink, stream: Stream, chunk: unknown, encoding: unknown): boolean => {
  if (typeof chunk !== "string" || !chunk.endsWith("\n") || pending.get(sink)?.[stream] !== undefined) return false
  if (typeof encoding === "string" && encoding !== "utf8" && encoding !== "utf-8") return false
  // At most 3 bytes per UTF-16 unit: no line of it can be over the limit.
  if (chunk.length * 3 > maxLineBytes) return false
  for (const line of chunk.slice(0, -1).split("\n")) sink(stream, line.endsWith("\r") ? line.slice(0, -1) : line)
  return true
}

const splitterOf = (sink: LogSink, stream: Stream): LineSplitter => {
  let splitters = pending.get(sink)
  if (splitters === undefined) pending.set(sink, splitters = {})
  // Cut a long line where the redactor says, so a secret is not split between two pieces.
  return splitters[stream] ??= makeLineSplitter((text) => sink(stream, text), undefined, sink.safeCut)
}

const toBytes = (chunk: unknown, encoding: BufferEncoding | undefined): Uint8Array =>
  typeof chunk === "string" ? Buffer.from(chunk, encoding ?? "utf8") : chunk instanceof Uint8Array ? chunk : Buffer.from(String(chunk))
