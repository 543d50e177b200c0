/**
 * `weft run`: loads the workflow, runs it with the chosen reporter (teed with
 * the log files and the trace), and maps the outcome to an exit code.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import * as Plan from "../runtime/Plan.ts"
import { resolveConcurrency } from "../runtime/concurrency.ts"
import { tee, type Reporter } from "../runtime/Reporter.ts"
import { defaultCacheDir, type CacheSettings } from "../runtime/cache/runCache.ts"
import { defaultWeftDir } from "../runtime/weftDir.ts"
import { run } from "../runtime/Run.ts"
import { inspectionWriter } from "../runtime/inspect/index.ts"
import { readDurations } from "../runtime/history/durations.ts"
import type { RunResult } from "../runtime/RunState.ts"
import { load, UsageError, type Io } from "./common.ts"
import { parseFlags } from "./flags.ts"
import { checkOutputStep, finalStep, masker, oneLine, showValue } from "./output.ts"
import { clearLoading } from "./loading.ts"
import { chooseReporter, reporterName } from "./reporters.ts"
import { reservingStdout } from "../runtime/Reporter.ts"
import { makeInterruption, signalExitCode } from "./interruption.ts"
import { runExtras } from "./runExtras.ts"
import { describeOpened, leftOpen } from "./openHandles.ts"
import { checkInspectFlag, checkRunFlags } from "./runFlags.ts"
import { runSpec } from "./specs.ts"

export const runCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseFlags(runSpec, args)
  const { trace, remote } = checkRunFlags(values, io)
  const inspectFile = checkInspectFlag(values.inspect, io)
  const inspect = inspectFile === undefined ? undefined : inspectionWriter(path.resolve(io.cwd, inspectFile))
  const { concurrency, output } = values
  const commandConcurrency = values["command-concurrency"]
  const [file = "weft.ts", ...only] = positionals
  const loaded = await load(file, io, "run")
  const plan = Plan.make(loaded.workflow, { file: loaded.file, only })
  if (output !== undefined) checkOutputStep(plan, output)
  const effectiveConcurrency = resolveConcurrency({ concurrency, commandConcurrency }, loaded.workflow.options).slots
  const folder = path.dirname(path.resolve(io.cwd, file))
  const weftDir = path.resolve(io.cwd, defaultWeftDir(folder))
  const cacheDir = path.resolve(io.cwd, defaultCacheDir(folder, weftDir))
  if (values["dry-run"]) {
    // The plan the run would make: with the history's durations, as `run` gets them (runExtras).
    const durations = await readDurations(weftDir, loaded.workflow.name).catch(() => new Map<string, number>())
    const { dryRun, renderDryRun } = await import("./dryRun.ts")
    const dry = dryRun(Plan.make(loaded.workflow, { file: loaded.file, only, durations }), effectiveConcurrency, durations)
    io.stdout(reporterName(values.reporter, io) === "json" ? `${JSON.stringify(dry)}\n` : renderDryRun(dry))
    return 0
  }
  const cache: CacheSettings = {
    mode: values["no-cache"] ? "off" : values.force ? "force" : "use",
    dir: cacheDir,
    root: folder,
    file: path.resolve(io.cwd, file),
    moduleTexts: loaded.texts,
    remote
  }
  const extras = await runExtras({ io, workflow: loaded.workflow, weftDir, trace })
  // With workers, this run is their coordinator; bullmq is loaded only then.
  const workersUrl = values.workers ?? (io.env ?? process.env).WEFT_WORKERS
  const coordinator = workersUrl === undefined || workersUrl === "" ? undefined : await coordinate(workersUrl, plan, io, { weftDir, resume: values.resume === true })
  const interruption = makeInterruption(io, "cancelling running steps")
  const onSignal = interruption.onSignal
  // With --output, stdout carries the value alone: the reporter writes to stderr
  // (the dashboard draws on the terminal as ever, its loading line erased first).
  if (output !== undefined) clearLoading(io)
  const reporterIo: Io = output === undefined ? io : { stdout: io.stderr, stderr: io.stderr, cwd: io.cwd, isTTY: io.isTTY, env: io.env }
  const chosen = await chooseReporter(values.reporter, reporterIo, {
    file: loaded.file,
    estimates: extras.durations,
    runNumber: extras.runNumber,
    onInterrupt: () => onSignal("SIGINT")
  })
  const reporter: Reporter = tee(chosen, ...extras.reporters)
  const stopListening = interruption.listen()
  // What is open before the run, to tell what its steps left open after it.
  const before = io.openResources?.()
  let closing: Promise<void> | undefined
  const closeCoordinator = () => (closing ??= coordinator?.close(interruption.by() !== undefined) ?? Promise.resolve())
  try {
    // On --reporter json, stdout is the events' alone.
    const reserve = reporterName(values.reporter as string | undefined, io) === "json" ? reservingStdout : <A>(f: () => Promise<A>) => f()
    const result = await reserve(() => run(loaded.workflow, {
      concurrency,
      // With workers, commands run on their machines: one per CPU here would cap them at this machine's count.
      commandConcurrency: commandConcurrency ?? (coordinator !== undefined && loaded.workflow.options.commandConcurrency === undefined ? effectiveConcurrency : undefined),
      // Only when given: else the workflow's own failFast holds (it may turn fail-fast off itself).
      failFast: values.continue ? false : undefined,
      only,
      file: loaded.file,
      cwd: folder,
      cache,
      weftDir,
      durations: extras.durations,
      reporter,
      signal: interruption.signal,
      // Every run keeps a journal, so that any run can be resumed.
      journal: true,
      resume: values.resume,
      allowAll: values["allow-all"],
      executor: coordinator?.executor,
      // Closed by the run before its end is reported.
      inspect
    }))
    if (inspect?.failure !== undefined) io.stderr(`weft: --inspect ${inspectFile}: writing stopped: ${inspect.failure instanceof Error ? inspect.failure.message : String(inspect.failure)}\n`)
    // The coordinator's own connections and timers (BullMQ's, Redis's) are not
    // the steps': closed before what the steps left open is counted.
    await closeCoordinator()
    // The reporters have flushed (`run` waited for them): weft exits now with
    // the run's code (bin/weft.js), whatever is left open, and says so.
    const left = before === undefined ? undefined : describeOpened(await leftOpen(before, io.openResources!))
    if (left !== undefined) io.stderr(`weft: ${left}\n`)
    if (interruption.by() !== undefined || result.status === "cancelled") return signalExitCode(interruption.by() ?? "SIGINT")
    showOutputs(plan, result, output, reporterName(values.reporter, io) === "plain", io)
    return result.status === "succeeded" ? 0 : 1
  } finally {
    stopListening()
    await closeCoordinator()
    // The run ended here, however it ended: a later --resume has nothing of it to await on the workers.
    if (coordinator !== undefined) rmSync(workersRunFile(weftDir, plan), { force: true })
  }
}

/**
 * Where a coordinator notes its run's id on the workers, until its run ends:
 * one killed outright leaves it, and `--resume` awaits that run's jobs still
 * waiting, running or done on the workers instead of running them again.
 */
const workersRunFile = (weftDir: string, plan: Plan.Plan): string =>
  path.join(weftDir, "workers", `${encodeURIComponent(plan.workflow.name)}.run`)

/** The coordinator of a run with workers at `url`; a bad URL or an unreachable Redis is a usage mistake. */
const coordinate = async (url: string, plan: Plan.Plan, io: Io, run: { readonly weftDir: string; readonly resume: boolean }) => {
  const { checkRedisUrl, makeCoordinator, WorkersConnectionError } = await import("../runtime/workers/index.ts")
  const noted = workersRunFile(run.weftDir, plan)
  const previous = run.resume && existsSync(noted) ? readFileSync(noted, "utf8").trim() : undefined
  try {
    const coordinator = await makeCoordinator({
      url: checkRedisUrl(url, "--workers"),
      root: io.cwd,
      ranks: new Map(plan.ids.map((id, i) => [id, plan.rank[i]!])),
      plan,
      adopt: previous !== undefined && /^[\w-]+$/.test(previous) ? previous : undefined
    })
    mkdirSync(path.dirname(noted), { recursive: true })
    writeFileSync(noted, `${coordinator.run}\n`)
    return coordinator
  } catch (error) {
    if (error instanceof WorkersConnectionError) throw new UsageError(error.message)
    throw error
  }
}

export { signalExitCode } from "./interruption.ts"

/**
 * After the run: `--output STEP`'s value on stdout; else, after the plain
 * summary, the final step's value when it is small enough for a line.
 */
const showOutputs = (plan: Plan.Plan, result: RunResult, output: string | undefined, plain: boolean, io: Io): void => {
  const has = (step: string) => Object.hasOwn(result.outputs, step)
  if (output !== undefined) {
    if (has(output)) io.stdout(`${masker(plan)(showValue(result.outputs[output]))}\n`)
    else io.stderr(`weft: --output ${output}: the step ${result.steps[output]?.status ?? "did not run"}, so it has no value\n`)
    return
  }
  const last = finalStep(plan)
  if (!plain || result.status !== "succeeded" || last === undefined || !has(last) || result.outputs[last] === undefined) return
  const line = oneLine(result.outputs[last])
  if (line !== undefined) io.stdout(`  ${last} returned ${masker(plan)(line)}\n`)
}
