/**
 * `weft watch [file] [step...]`: run the workflow, then rerun what each file
 * change affects, until `q` or Ctrl-C (see `runtime/watch/Session.ts`).
 *
 * The dashboard binds the keys itself; with `--reporter plain|json` they are
 * read from stdin (a terminal in raw mode, or lines from a pipe). `q` exits 0,
 * Ctrl-C or SIGINT 130, SIGTERM 143; a second Ctrl-C does not wait for steps
 * to clean up. Either way every step process is gone before weft exits.
 */
import * as path from "node:path"
import * as Plan from "../runtime/Plan.ts"
import { killAllGroups } from "../runtime/Process.ts"
import { tee } from "../runtime/Reporter.ts"
import { defaultCacheDir } from "../runtime/cache/runCache.ts"
import { defaultWeftDir } from "../runtime/weftDir.ts"
import { readKeys, type WatchKey } from "../runtime/watch/keys.ts"
import { startSession, type Session } from "../runtime/watch/Session.ts"
import type { WatchControls } from "../runtime/watch/WatchEvent.ts"
import { load, type Io } from "./common.ts"
import { parseFlags } from "./flags.ts"
import { chooseReporter, reporterName } from "./reporters.ts"
import { reservingStdout } from "../runtime/Reporter.ts"
import { runExtras } from "./runExtras.ts"
import { checkRunFlags } from "./runFlags.ts"
import { watchSpec } from "./specs.ts"

const clearScreen = "\x1b[2J\x1b[3J\x1b[H"

/** Why watch mode stopped: `q`, or a signal (Ctrl-C in a raw terminal counts as SIGINT). */
type Quit = "q" | "SIGINT" | "SIGTERM" | "SIGHUP"

const exitCodes: Record<Quit, number> = { q: 0, SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }

export const watchCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseFlags(watchSpec, args)
  const { trace, remote } = checkRunFlags(values, io)
  const { concurrency } = values
  const commandConcurrency = values["command-concurrency"]
  const debounceMs = values.debounce ?? 50
  const name = reporterName(values.reporter, io)
  const [file = "weft.ts", ...only] = positionals
  // As `weft run`: a workflow that does not load or is not valid at the start is exit code 2.
  // The module texts it was loaded from (`loaded.texts`) let the first edit keep the function steps it did not touch.
  const loaded = await load(file, io, "watch")
  const texts = loaded.texts
  Plan.make(loaded.workflow, { file: loaded.file, only })
  const folder = path.dirname(path.resolve(io.cwd, file))
  const weftDir = path.resolve(io.cwd, defaultWeftDir(folder))
  const cacheDir = path.resolve(io.cwd, defaultCacheDir(folder, weftDir))
  const extras = await runExtras({ io, workflow: loaded.workflow, weftDir, trace })

  let quitting: Quit | undefined
  let session: Session | undefined
  let stopKeys = () => {}
  const quit = (why: Quit) => {
    if (quitting !== undefined) {
      if (why === "q") return
      // A second Ctrl-C: do not wait for graceful teardown.
      killAllGroups("SIGKILL")
      stopKeys()
      io.stderr("weft: forced exit\n")
      process.exit(exitCodes[why])
    }
    quitting = why
    if (why !== "q") io.stderr(`\nweft: ${why === "SIGINT" ? "Ctrl-C" : why}: stopping; cancelling running steps (press Ctrl-C again to force)\n`)
    void session?.close()
  }
  // The reporter needs the controls before the session exists.
  const controls: WatchControls = {
    rerunAll: () => session?.controls.rerunAll(),
    rerunFailed: () => session?.controls.rerunFailed(),
    clear: () => session?.controls.clear(),
    quit: () => quit("q")
  }
  const chosen = await chooseReporter(name, io, {
    file: loaded.file,
    estimates: extras.durations,
    runNumber: extras.runNumber,
    controls,
    onInterrupt: () => quit("SIGINT")
  })
  const reporter = tee(chosen, ...extras.reporters)
  const onKey = (key: WatchKey) => {
    if (key === "r") controls.rerunAll()
    else if (key === "f") controls.rerunFailed()
    else if (key === "c") controls.clear()
    else quit(key === "q" ? "q" : "SIGINT")
  }
  if (name !== "tui" && io.stdin !== undefined) stopKeys = readKeys(io.stdin, onKey)
  const onSignal = (signal: NodeJS.Signals) => quit(signal === "SIGTERM" || signal === "SIGHUP" ? signal : "SIGINT")
  // SIGHUP: the terminal closed; stop as on SIGTERM, tearing the steps down.
  io.signals?.on("SIGINT", onSignal)
  io.signals?.on("SIGTERM", onSignal)
  io.signals?.on("SIGHUP", onSignal)
  try {
    session = startSession({
      file,
      cwd: io.cwd,
      workflow: loaded.workflow,
      sources: texts,
      only,
      concurrency,
      commandConcurrency,
      // Only when given: else the workflow's own failFast holds (it may turn fail-fast off itself).
      failFast: values.continue ? false : undefined,
      allowAll: values["allow-all"],
      cache: { mode: values["no-cache"] ? "off" : values.force ? "force" : "use", dir: cacheDir, remote },
      weftDir,
      // Every run keeps a journal, as with `weft run`, so that it can be resumed.
      journal: true,
      durations: extras.durations,
      debounceMs,
      ignore: values.ignore,
      usePolling: values.poll,
      reporter,
      // The dashboard clears itself; plain text on a terminal is cleared here.
      onClear: () => {
        if (name === "plain" && io.isTTY === true) io.stdout(clearScreen)
      }
    })
    // On --reporter json, stdout is the events' alone.
    const closed = session.closed
    await (name === "json" ? reservingStdout(() => closed) : closed)
    // Every run has ended, so every step's process group is down already;
    // this is for one the kernel would not let go of in time (see Process.ts).
    killAllGroups("SIGKILL")
    return exitCodes[quitting ?? "q"]
  } finally {
    stopKeys()
    io.signals?.off("SIGINT", onSignal)
    io.signals?.off("SIGTERM", onSignal)
    io.signals?.off("SIGHUP", onSignal)
    await reporter.close?.()
  }
}
