/**
 * Running a workflow from code: `run` (a promise) and `runEffect` (an Effect,
 * which runs with the caller's services, so `TestClock` drives its time).
 */
import { existsSync } from "node:fs"
import * as path from "node:path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { createActor, type InspectionEvent, type Observer } from "xstate"
import { isDefinitionError, type DefinitionError } from "../dsl/DefinitionError.ts"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Event } from "./Event.ts"
import { openRunJournal, runsDir, type JournalSettings } from "./journal/open.ts"
import { recordRun } from "./history/recordRun.ts"
import { RunRecorder } from "./history/RunDetail.ts"
import { isRunId, makeRunId } from "./history/runId.ts"
import { installConsoleCapture } from "./internal/consoleCapture.ts"
import { installWriteCapture } from "./internal/writeCapture.ts"
import { compile, type CompileOptions } from "./Machine.ts"
import { silent, type Reporter } from "./Reporter.ts"
import { json } from "./reporters/json.ts"
import { plain } from "./reporters/plain.ts"
import type { RunResult } from "./RunState.ts"
import { runOptionsError } from "./runOptions.ts"
import { defaultWeftDir, weftDirNamed } from "./weftDir.ts"
import { autoPrune, cacheBudget } from "./cache/autoPrune.ts"
import { makeFileStore } from "./cache/FileStore.ts"
import { defaultCacheDir } from "./cache/runCache.ts"
import { settleUploads } from "./cache/remote/TieredStore.ts"

export interface RunOptions extends Omit<CompileOptions, "services" | "journal" | "emitTo"> {
  /** Cancels the run when aborted: running steps are interrupted, the run ends `cancelled`. */
  readonly signal?: AbortSignal | undefined
  /** How to show the run (default: silent). */
  readonly reporter?: "plain" | "json" | "silent" | Reporter | undefined
  /** Called for every event, in order. */
  readonly onEvent?: ((event: Event) => void) | undefined
  /**
   * Keep a run journal (`runs` in `weftDir`), so that the run can be
   * resumed if it is killed or fails (default: false; the CLI always keeps one).
   */
  readonly journal?: boolean | JournalSettings | undefined
  /** Replay the steps the newest unfinished run of this workflow recorded, if their keys are unchanged; implies `journal`. */
  readonly resume?: boolean | undefined
  /**
   * Record the run in the history in `weftDir` (default: when `weftDir` or
   * `$WEFT_DIR` names the folder, as the CLI always does). `verify` turns it
   * off: its runs are trials, not runs of the workflow.
   */
  readonly history?: boolean | undefined
  /**
   * The cache store's folder: shorthand for `cache: { dir }` (default:
   * `$WEFT_CACHE_DIR`, else `cache` in `weftDir`). It moves the cache only:
   * history, journals and file digests stay in `weftDir`.
   */
  readonly cacheDir?: string | undefined
  /**
   * Watches the run through XState's inspection API: the run actor, each
   * step actor's creation, events, snapshots and end (passed to
   * `createActor(machine, { inspect })`). An observer's `complete` is called
   * once the run has ended, before its `run:end` is reported:
   * `inspectionWriter(file)` closes its file there.
   */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined
}

const reporterOf = (reporter: RunOptions["reporter"]): Reporter =>
  reporter === undefined || reporter === "silent" ? silent : reporter === "plain" ? plain() : reporter === "json" ? json() : reporter

/**
 * Runs a workflow as an Effect. Fails with `DefinitionError` when the workflow
 * cannot run; a failed step is not an error (see `result.status`).
 */
export const runEffect = <O extends Record<string, unknown>>(
  wf: Workflow<O>,
  given: RunOptions = {}
): Effect.Effect<RunResult<O>, DefinitionError> =>
  Effect.gen(function*() {
    // Before anything is opened or started: a run that cannot start leaves nothing behind.
    const invalid = runOptionsError(wf, given, { unknown: true })
    if (invalid !== undefined) return yield* Effect.fail(invalid)
    const options = given.cacheDir === undefined ? given : { ...given, cache: { ...given.cache, dir: given.cacheDir } }
    const root = path.resolve(options.cache?.root ?? options.cwd ?? process.cwd())
    // One folder for everything the run keeps; only the cache may live elsewhere.
    const weftDir = path.resolve(root, options.weftDir ?? defaultWeftDir(root))
    const services = yield* Effect.context<never>()
    // Epoch time from the run's clock: a test's `TestClock` decides it too.
    const startedAt = yield* Clock.currentTimeMillis
    const chosenId = options.runId ?? makeRunId(startedAt)
    const journaled = options.journal === undefined || options.journal === false ? (options.resume ? {} : undefined) : options.journal === true ? {} : options.journal
    // A bad id given by the caller is compile's to reject: it must not name a folder first.
    const journal = journaled === undefined || !isRunId(chosenId) ? undefined : yield* Effect.promise(() =>
      openRunJournal(wf, journaled.dir ?? runsDir(weftDir), { file: options.file, ...journaled, resume: options.resume ?? journaled.resume }, {
        run: chosenId,
        fresh: options.runId === undefined ? () => makeRunId(startedAt) : undefined
      })
    )
    // One id for the run everywhere: its journal's (another only if two runs drew the same one).
    const runId = journal === undefined || journal.writer.run === "" ? chosenId : journal.writer.run
    const inspect = options.inspect
    const holdEnd = journal !== undefined || (typeof inspect === "object" && inspect.complete !== undefined)
    // Where the machine's events go: set below, once the reporter is chosen.
    let emitTo = (_event: Event): void => {}
    const machine = yield* Effect.try({
      try: () => compile(wf, { ...options, weftDir, services, journal, runId, emitTo: (event) => emitTo(event) }),
      catch: (error) => {
        if (isDefinitionError(error)) return error
        throw error
      }
    }).pipe(Effect.tapError(() => Effect.promise(() => journal?.writer.discard() ?? Promise.resolve())))
    const reporter = reporterOf(options.reporter)
    // A run told where weft's folder is (`weftDir`, `$WEFT_DIR`; the CLI always is) leaves a record in its history.
    const recorder = options.history === false || (options.history === undefined && options.weftDir === undefined && !weftDirNamed()) ? undefined : new RunRecorder()
    const uninstallConsole = installConsoleCapture()
    const uninstallWrites = installWriteCapture()
    const uninstall = () => {
      uninstallWrites()
      uninstallConsole()
    }
    const result = yield* Effect.callback<RunResult>((resume) => {
      const deliver = (event: Event) => {
        reporter.onEvent(event)
        options.onEvent?.(event)
      }
      let ending: Event | undefined
      emitTo = (event: Event) => {
        recorder?.add(event)
        // With a journal, `run:end` waits for its last records and end line to
        // be on disk; with an inspection observer, for it to complete.
        if (holdEnd && event.type === "run:end") ending = event
        else deliver(event)
      }
      const actor = createActor(machine, inspect === undefined ? undefined : { inspect })
      const cancel = () => actor.send({ type: "cancel" })
      const finished = new Promise<void>((resolve) => {
        actor.subscribe({
          complete: () => {
            const output = actor.getSnapshot().output!
            void (journal?.writer.close(output.status) ?? Promise.resolve()).then(() => {
              if (typeof inspect === "object") inspect.complete?.()
              if (ending !== undefined) deliver(ending)
              resolve()
              resume(Effect.succeed(output))
            })
          },
          error: (error) => {
            if (typeof inspect === "object") inspect.complete?.()
            resolve()
            resume(Effect.die(error))
          }
        })
      })
      // The machine itself heeds `options.signal` (see `CompileOptions.signal`).
      actor.start()
      // Interrupting the run cancels it and waits until every step has ended.
      return Effect.promise(() => {
        cancel()
        return finished
      })
    }).pipe(Effect.ensuring(Effect.sync(uninstall)))
    // The shared cache uploads in the background (`TieredStore.ts`): done, or given up, before the run returns and weft exits.
    yield* Effect.promise(settleUploads)
    if (recorder !== undefined) {
      const meta = { startedAt, file: options.file }
      // History informs reports and estimates only: a store on a read-only disk must not fail the run.
      yield* Effect.promise(() => recordRun(weftDir, { record: recorder.record(meta), detail: recorder.detail(meta) }).catch(() => {}))
    }
    if (reporter.onEnd !== undefined) yield* Effect.promise(async () => reporter.onEnd!(result))
    // After the result is out, a bounded wait: the store must not grow without end (see `autoPrune.ts`).
    if (options.cache?.mode !== "off") yield* Effect.promise(() => pruneAfterRun(options.cache?.dir ?? defaultCacheDir(root, weftDir), options.cache?.maxSize))
    return result as RunResult<O>
  })

/** Prunes the store in `dir` if there is one; trouble with it is not the run's. */
const pruneAfterRun = async (dir: string, maxSize: number | string | undefined): Promise<void> => {
  const folder = path.resolve(dir)
  if (!existsSync(folder)) return
  let maxBytes: number
  try {
    maxBytes = cacheBudget(maxSize)
  } catch {
    // A bad $WEFT_CACHE_MAX_SIZE: `weft cache prune` says so; a run keeps the store as it is.
    return
  }
  await autoPrune(folder, makeFileStore(folder), { maxBytes })
}

/**
 * Runs a workflow and resolves with its result once every step has ended.
 * Rejects with a `DefinitionError` (every problem listed) when the workflow
 * cannot run; a failing step resolves with `status: "failed"`.
 *
 * @example
 * const result = await run(wf, { concurrency: 4, reporter: "plain" })
 * if (result.status === "succeeded") console.log(result.outputs.notes)
 */
export const run = <O extends Record<string, unknown>>(wf: Workflow<O>, options: RunOptions = {}): Promise<RunResult<O>> =>
  Effect.runPromise(runEffect(wf, options))
