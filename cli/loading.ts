/**
 * The dashboard's first line, drawn before anything heavy loads: `weft run`
 * and `weft watch` on a terminal say "loading…" within a few tens of
 * milliseconds, while the engine, the workflow and Ink are still being
 * imported. The dashboard replaces the line when it takes over; an error
 * before then erases it first.
 *
 * Only the arguments are peeked at here; the command parses them properly
 * (and reports any mistake) afterwards.
 */
import type { Io } from "./common.ts"
import { reporterName } from "./reporterName.ts"
import { runSpec, watchSpec } from "./specs.ts"

/** Flags of `run` and `watch` that take a value: the word after them is not the file. */
const valued = new Set(Object.entries({ ...runSpec.flags, ...watchSpec.flags }).filter(([, flag]) => flag.type === "string").map(([name]) => `--${name}`))

const shown = new WeakSet<Io>()

export const showLoading = (args: ReadonlyArray<string>, io: Io): void => {
  let given: string | undefined
  let file: string | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--dry-run") return
    if (arg.startsWith("--reporter=")) given = arg.slice("--reporter=".length)
    else if (valued.has(arg)) {
      if (arg === "--reporter") given = args[i + 1]
      i++
    } else if (!arg.startsWith("-")) file ??= arg
  }
  let name
  try {
    name = reporterName(given, io)
  } catch {
    return // the command says what is wrong with --reporter
  }
  if (name !== "tui") return
  io.stdout(`weft ▸ ${file ?? "weft.ts"} · loading…`)
  shown.add(io)
  // Ink, React and Yoga take a few hundred milliseconds to load and warm up:
  // start now, so that they load while the workflow does. The dashboard
  // imports the same module and gets this one; a failure surfaces there.
  import("../tui/mount.ts").catch(() => {})
}

/** Erases the loading line, if one is shown. */
export const clearLoading = (io: Io): void => {
  if (shown.delete(io)) io.stdout("\r\u001B[K")
}
