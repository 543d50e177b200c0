/**
 * A watch event as short lines for people: what the plain reporter prints
 * between runs (the dashboard may show the same words).
 */
import { unreachable } from "../Event.ts"
import type { WatchEvent } from "./WatchEvent.ts"

/** How many names a line lists before saying "and N more". */
const listed = 5

const list = (names: ReadonlyArray<string>): string =>
  names.length <= listed ? names.join(", ") : `${names.slice(0, listed).join(", ")} and ${names.length - listed} more`

/** The event as one or more lines, each starting `weft:`, ending with a newline. */
export const describeWatchEvent = (event: WatchEvent): string => {
  switch (event.type) {
    case "watch:ready":
      return `weft: watching ${event.files} file${event.files === 1 ? "" : "s"}${event.polling ? " (polling)" : ""}\n`
    case "watch:change": {
      const what = event.steps.length === 0 ? "nothing to rerun" : `rerunning ${list(event.steps)}`
      const stopped = event.interrupted.length === 0 ? "" : ` (interrupting ${list(event.interrupted)})`
      return `weft: changed ${list(event.files)}: ${what}${stopped}\n`
    }
    case "watch:reload": {
      const parts = [
        event.added.length > 0 ? `added ${list(event.added)}` : "",
        event.removed.length > 0 ? `removed ${list(event.removed)}` : "",
        event.changed.length > 0 ? `changed ${list(event.changed)}` : ""
      ].filter((part) => part !== "")
      return `weft: reloaded ${event.file}: ${parts.length === 0 ? "no step changed" : parts.join("; ")}\n`
    }
    case "watch:error":
      return `weft: ${event.message}\nweft: still watching, with the last good definition; fix ${event.file} to go on\n`
    case "watch:warning":
      return `weft: warning: ${event.message}\n`
    case "watch:idle":
      return "weft: waiting for changes (r rerun all, f rerun failed, c clear, q quit)\n"
    default:
      return unreachable(event)
  }
}
