/**
 * `weft run`: loads the workflow, runs it with the chosen reporter (teed with
 * the log files and the trace), and maps the outcome to an exit code.
 */
import * as path from "node:path"
import * as Plan from "../Plan.ts"
import { resolveConcurrency } from "../concurrency.ts"
import { killAllGroups } from "../Process.ts"
import { tee, type Reporter } from "../Reporter.ts"
import { defaultCacheDir, type CacheSettings } from "../cache/runCache.ts"
import { defaultWeftDir } from "../weftDir.ts"
import { run } from "../Run.ts"
import { load, parse, type Io } from "./common.ts"
import { chooseReporter } from "./reporters.ts"
import { runExtras } from "./runExtras.ts"
import { describeOpened, leftOpen } from "./openHandles.ts"
import { checkRunFlags, runFlags } from "./runFlags.ts"

export const runCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parse(args, {
    ...runFlags,
    "dry-run": { type: "boolean", default: false },
    resume: { type: "boolean", default: false }
  })
  const { concurrency, commandConcurrency, trace } = checkRunFlags(values, io)
  const [file = "weft.ts", ...only] = positionals
  const loaded = await load(file, io)
  const plan = Plan.make(loaded.workflow, { file: loaded.file, only })
  const effectiveConcurrency = resolveConcurrency({ concurrency, commandConcurrency }, loaded.workflow.options).slots
  const folder = path.dirname(path.resolve(io.cwd, file))
  const weftDir = path.resolve(io.cwd, defaultWeftDir(folder))
  const cacheDir = path.resolve(io.cwd, defaultCacheDir(folder, weftDir))
  if (values["dry-run"]) {
    const { renderPlan } = await import("./graph.ts")
    io.stdout(renderPlan(plan, effectiveConcurrency))
    return 0
  }
  const cache: CacheSettings = {
    mode: values["no-cache"] ? "off" : values.force ? "force" : "use",
    dir: cacheDir,
    root: folder,
    file: path.resolve(io.cwd, file),
    moduleTexts: loaded.texts
  }
  const extras = await runExtras({ io, workflow: loaded.workflow, weftDir, trace })
  const controller = new AbortController()
  let interrupted: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted !== undefined) {
      // Second signal: do not wait for graceful teardown.
      killAllGroups("SIGKILL")
      io.stderr("weft: forced exit\n")
      process.exit(signal === "SIGTERM" ? 143 : 130)
    }
    interrupted = signal
    io.stderr(`\nweft: ${signal === "SIGINT" ? "Ctrl-C" : signal}: cancelling running steps (press Ctrl-C again to force)\n`)
    controller.abort()
  }
  const chosen = await chooseReporter(values.reporter as string | undefined, io, {
    file: loaded.file,
    estimates: extras.durations,
    runNumber: extras.runNumber,
    onInterrupt: () => onSignal("SIGINT")
  })
  const reporter: Reporter = tee(chosen, ...extras.reporters)
  const signals = io.signals
  signals?.on("SIGINT", onSignal)
  signals?.on("SIGTERM", onSignal)
  // What is open before the run, to tell what its steps left open after it.
  const before = io.openResources?.()
  try {
    const result = await run(loaded.workflow, {
      concurrency,
      commandConcurrency,
      // Only when given: else the workflow's own failFast holds (it may turn fail-fast off itself).
      failFast: values.continue ? false : undefined,
      only,
      file: loaded.file,
      cwd: folder,
      cache,
      weftDir,
      durations: extras.durations,
      reporter,
      signal: controller.signal,
      // Every run keeps a journal, so that any run can be resumed.
      journal: true,
      resume: values.resume,
      allowAll: values["allow-all"]
    })
    // The reporters have flushed (`run` waited for them): weft exits now with
    // the run's code (bin/weft.js), whatever is left open, and says so.
    const left = before === undefined ? undefined : describeOpened(await leftOpen(before, io.openResources!))
    if (left !== undefined) io.stderr(`weft: ${left}\n`)
    if (interrupted !== undefined || result.status === "cancelled") return interrupted === "SIGTERM" ? 143 : 130
    return result.status === "succeeded" ? 0 : 1
  } finally {
    signals?.off("SIGINT", onSignal)
    signals?.off("SIGTERM", onSignal)
  }
}
