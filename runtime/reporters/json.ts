/** One JSON object per line per event, for tools: every event, `step:partial` included, as it happens. */
import { writeStdout, type Reporter, type Write } from "../Reporter.ts"

/**
 * Above this many characters waiting, they are written at once: what waits
 * is bounded however many events one turn makes.
 */
const flushAbove = 1 << 20

/**
 * The lines of one turn of the event loop go out in one `write`, at its end
 * (a microtask): the run tells a batch of steps' events in one turn, and a
 * write per line to a pipe, a system call each, was the largest cost of
 * 502 process steps after the spawns themselves. Nothing waits past the
 * turn, so nothing waits for a timer, nor is lost by an exit after it.
 */
export const json = (options: { readonly write?: Write } = {}): Reporter => {
  const write = options.write ?? writeStdout
  let waiting = ""
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (waiting === "") return
    const text = waiting
    waiting = ""
    write(text)
  }
  const line = (value: unknown) => {
    waiting += JSON.stringify(value) + "\n"
    if (waiting.length > flushAbove) flush()
    else if (!scheduled) {
      scheduled = true
      queueMicrotask(flush)
    }
  }
  return {
    onEvent: line,
    onEnd: flush,
    // Watch mode's events are JSON lines in the same stream, told apart by their `watch:` type.
    onWatch: line,
    close: flush
  }
}
