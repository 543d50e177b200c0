/**
 * A watch session: run the workflow, then rerun what each change affects,
 * until closed. Usable in-process (tests drive it with real files); the CLI
 * (`weft watch`) adds flags, keys and signals around it.
 *
 * ```
 *              watcher ready              run ended, nothing queued
 *   starting ───────────────▶ running ─────────────────────────────▶ idle
 *                              │  ▲  ▲                                 │
 *                              └──┘  └──────── change / r / f ─────────┘
 *           a change hits a step the run already reached: abort it, wait
 *           until it has ended (every process gone), start the next run
 *   any ──── close() / q ────▶ closing ──▶ closed (no run, no process, no watcher)
 * ```
 *
 * What a change does:
 * - A change to the workflow file or a local module it imports reloads the
 *   workflow (a fresh import): `watch:reload` says which steps were added,
 *   removed or changed (see `diff.ts`), and those rerun with everything
 *   downstream. A file that does not load, or a workflow that is not valid,
 *   is a `watch:error`; watching goes on with the last good workflow.
 * - A change to a file a step's `cache.inputs` match reruns that step and
 *   everything downstream (`affected.ts`); `watch:change` says so.
 * - If an affected step has already started in the run under way, that run
 *   is aborted (its steps interrupted, their process groups torn down) and,
 *   once it has ended, the next run starts. Every step that ended well and is
 *   not affected keeps its result (`keep.ts`): it ends `cached` without
 *   running. Affected steps the run has not reached yet need no abort.
 * - A step that writes its own inputs: a change made while the step ran is
 *   trusted once (it may be the user's edit: the step reruns); a second in
 *   the next run waits for that run to end, then reruns it; after that it is
 *   the step's own doing: reported once (`watch:warning`) and not rerun for
 *   (see `selfWrites.ts`).
 */
import { createHash } from "node:crypto"
import { readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { isDefinitionError } from "../../dsl/DefinitionError.ts"
import type { Workflow } from "../../dsl/Workflow.ts"
import type { Event } from "../Event.ts"
import { describeError } from "../internal/describeError.ts"
import * as Plan from "../Plan.ts"
import { silent, type Reporter } from "../Reporter.ts"
import type { CacheSettings } from "../cache/runCache.ts"
import { localModules } from "../cache/moduleGraph.ts"
import { run } from "../Run.ts"
import { inputPatterns, outputPatterns, touched, withDownstream } from "./affected.ts"
import { diffWorkflows } from "./diff.ts"
import { patternsOf, type WatchPattern } from "./globs.ts"
import type { KeptResult } from "./keep.ts"
import { SelfWrites } from "./selfWrites.ts"
import { loadWithTexts, makeStepDigest, type ModuleTexts } from "./stepSources.ts"
import { makeWatcher, type FileChange, type WatchFactory, type WatchTarget } from "./Watcher.ts"
import type { WatchControls, WatchEvent } from "./WatchEvent.ts"

export interface SessionOptions {
  /** The workflow file, as the user named it (relative to `cwd`, or absolute). */
  readonly file: string
  /** The folder the user is in: `file` and messages are relative to it. */
  readonly cwd: string
  /** The workflow as first loaded from `file`. */
  readonly workflow: Workflow<any>
  /**
   * The texts of `file`'s modules as `workflow` was loaded from them (see
   * `loadWithTexts`): they let the first edit keep the results of function
   * steps it did not touch. Without them, that edit reruns every function step.
   * `"unknown"`: a save fell during the load (see `CacheSettings.moduleTexts`).
   */
  readonly sources?: ModuleTexts | "unknown" | undefined
  /** Run only these steps and what they depend on. */
  readonly only?: ReadonlyArray<string> | undefined
  readonly concurrency?: number | undefined
  readonly commandConcurrency?: number | undefined
  readonly failFast?: boolean | undefined
  /** Turn the environment checks off in every run (`--allow-all`). */
  readonly allowAll?: boolean | undefined
  /** How runs use the cache (`mode`, `dir`, `remote`); the root and file are the workflow's. */
  readonly cache?: Pick<CacheSettings, "mode" | "dir" | "remote"> | undefined
  /** Weft's folder (see `RunOptions.weftDir`). */
  readonly weftDir?: string | undefined
  /** Keep a run journal for each run (as `weft run` does). */
  readonly journal?: boolean | undefined
  /** Known step durations (history), for the scheduler. */
  readonly durations?: ReadonlyMap<string, number> | undefined
  /** Quiet time that ends a burst of changes (ms, default 50). */
  readonly debounceMs?: number | undefined
  /** Extra globs (relative to the workflow's folder) never to react to. */
  readonly ignore?: ReadonlyArray<string> | undefined
  /** Shows each run, and the watch events (`onWatch`). */
  readonly reporter?: Reporter | undefined
  readonly onEvent?: ((event: Event) => void) | undefined
  readonly onWatch?: ((event: WatchEvent) => void) | undefined
  /** The `c` key: clear what the reporter has shown. */
  readonly onClear?: (() => void) | undefined
  /** Loads the edited workflow afresh (default: `loadWorkflow` of `weft run`). */
  readonly load?: ((file: string) => Promise<Workflow<any>>) | undefined
  /** Makes the file watcher (default: chokidar); tests inject failures. */
  readonly watcherFactory?: WatchFactory | undefined
  /** Poll instead of native events from the start. */
  readonly usePolling?: boolean | undefined
}

export interface Session {
  /** The keys: `r`, `f`, `c`, `q`. */
  readonly controls: WatchControls
  /** Resolves once the session has ended: no run, no step process and no watcher left. */
  readonly closed: Promise<void>
  /** Ends the session (what `q` does); resolves like `closed`. */
  readonly close: () => Promise<void>
}

type State = "starting" | "running" | "idle" | "closing" | "closed"

/** A run under way, as watch mode follows it. */
interface CurrentRun {
  readonly controller: AbortController
  /** Steps the run has reached (ready, running or ended); a step not here is still pending. */
  readonly reached: Set<string>
  /** Steps affected by a change after the run reached them: their results are not kept. */
  readonly stale: Set<string>
  /** The results it reuses; a change takes affected steps out before the run reaches them. */
  readonly keep: Map<string, KeptResult>
}

const moduleExtension = /\.[cm]?[jt]sx?$/i

/**
 * Starts a session: watching begins, then the first run.
 *
 * @throws DefinitionError when `workflow` cannot run (check it first, as `weft watch` does).
 * @example
 * const session = startSession({ file: "weft.ts", cwd, workflow, reporter: plain() })
 * process.on("SIGINT", () => void session.close())
 * await session.closed
 */
export const startSession = (options: SessionOptions): Session => {
  const absolute = path.resolve(options.cwd, options.file)
  const shown = path.relative(options.cwd, absolute) || options.file
  const root = path.dirname(absolute)
  const reporter = options.reporter ?? silent
  const load = options.load ?? defaultLoad(options.cwd)
  const ignore = (options.ignore ?? []).flatMap((glob) => patternsOf(root, glob))

  let state: State = "starting"
  let workflow = options.workflow
  let plan = Plan.make(workflow, { file: shown, only: options.only, durations: options.durations })
  let modules = moduleFiles(absolute)
  let modulesDigest = digestOf(modules)
  /** The digests of the function steps of `workflow`, from the texts it was loaded from. */
  let stepDigest = makeStepDigest(workflow, absolute, options.sources === "unknown" ? undefined : options.sources)
  /** The texts `workflow` was loaded from: each run's function steps are keyed by their own source (`CacheSettings.moduleTexts`). */
  let sources: ModuleTexts | "unknown" | undefined = options.sources
  /** The last edit did not load: the next good load, even of the same content, must say it is fixed. */
  let broken = false
  const kept = new Map<string, KeptResult>()
  const selfWrites = new SelfWrites(mtimeOf)
  let current: CurrentRun | undefined
  let wanted = false
  let looping: Promise<void> | undefined

  const emit = (event: WatchEvent) => {
    reporter.onWatch?.(event)
    options.onWatch?.(event)
  }
  const warn = (message: string) => emit({ type: "watch:warning", time: Date.now(), message })

  const targetOf = (): WatchTarget => ({
    patterns: [...[...inputPatterns(plan, root).values()].flat(), ...modules.map(literal)],
    ignored: [...outputPatterns(workflow, root), ...ignore]
  })

  const watcher = makeWatcher({
    debounceMs: options.debounceMs ?? 50,
    factory: options.watcherFactory,
    usePolling: options.usePolling,
    onWarning: warn,
    onReady: ({ files, polling }) => emit({ type: "watch:ready", time: Date.now(), files, polling }),
    onChange: (changes) => void serially(() => onChange(changes))
  })

  // Changes and keys are handled one at a time, in order.
  let queue: Promise<unknown> = Promise.resolve()
  const serially = (task: () => Promise<void> | void): Promise<void> => {
    const next = queue.then(async () => {
      if (state !== "closing" && state !== "closed") await task()
    }).catch((error) => warn(`weft bug while handling a change: ${describeError(error)}`))
    queue = next
    return next
  }

  /** Asks for a run; aborts the one under way first when `abort`. */
  const request = (abort: boolean) => {
    wanted = true
    if (current !== undefined) {
      if (abort) current.controller.abort()
      return
    }
    looping ??= loop().finally(() => {
      looping = undefined
    })
  }

  const loop = async () => {
    while (wanted && state !== "closing") {
      wanted = false
      await runOnce()
    }
    if (state === "running") {
      state = "idle"
      emit({ type: "watch:idle", time: Date.now() })
    }
  }

  const runOnce = async () => {
    state = "running"
    const keep = new Map([...kept].filter(([id]) => plan.indexOf.has(id)))
    const run_: CurrentRun = { controller: new AbortController(), reached: new Set(), stale: new Set(), keep }
    current = run_
    const durations = new Map<string, number>()
    const follow = (event: Event) => {
      switch (event.type) {
        case "step:ready":
          run_.reached.add(event.step)
          break
        case "step:start":
          run_.reached.add(event.step)
          if (event.attempt === 1) selfWrites.started(event.step, Date.now())
          break
        case "step:end": {
          run_.reached.add(event.step)
          selfWrites.ended(event.step, Date.now())
          if (event.status === "succeeded") durations.set(event.step, event.durationMs)
          else if (event.status === "cached") durations.set(event.step, event.savedMs ?? event.durationMs)
          break
        }
        default:
          break
      }
      options.onEvent?.(event)
    }
    try {
      const result = await run(workflow, {
        concurrency: options.concurrency,
        commandConcurrency: options.commandConcurrency,
        failFast: options.failFast,
        allowAll: options.allowAll,
        only: options.only,
        durations: options.durations,
        file: shown,
        cwd: root,
        cache: { ...options.cache, root, file: absolute, moduleTexts: sources },
        weftDir: options.weftDir,
        journal: options.journal,
        reporter,
        onEvent: follow,
        signal: run_.controller.signal,
        keep
      })
      for (const id of plan.ids) {
        const step = result.steps[id]
        if (run_.stale.has(id)) kept.delete(id)
        else if (step !== undefined && (step.status === "succeeded" || step.status === "cached")) {
          kept.set(id, { value: (result.outputs as Record<string, unknown>)[id], durationMs: keep.get(id)?.durationMs ?? durations.get(id) ?? step.durationMs ?? 0 })
        }
      }
    } catch (error) {
      emit({ type: "watch:error", time: Date.now(), file: shown, message: isDefinitionError(error) ? error.message : `the run failed: ${describeError(error)}` })
    } finally {
      current = undefined
    }
  }

  const relative = (file: string) => path.relative(root, file).split(path.sep).join("/") || file

  const onChange = async (changes: ReadonlyArray<FileChange>) => {
    const now = new Set<string>()
    const later = new Set<string>()
    let reloaded = false
    const moduleSet = new Set(modules)
    if (changes.some((change) => moduleSet.has(change.path))) reloaded = await reload(now)
    const byPath = new Map(changes.map((change) => [change.path, change]))
    for (const [step, files] of touched(inputPatterns(plan, root), byPath.keys())) {
      const { decision, warn: named } = selfWrites.decide(step, files.map((file) => byPath.get(file)!))
      if (named !== undefined) {
        warn(
          `the inputs of step "${step}" (${named.map(relative).join(", ")}) changed while it ran, in consecutive runs: if the step writes them itself, rerunning would loop, ` +
            `so weft does not rerun it for changes made while it runs (it reruns with the next run). ` +
            `Declare what it writes in cache.outputs or narrow its cache.inputs; press r to rerun everything`
        )
      }
      if (decision === "now") now.add(step)
      else if (decision === "after") later.add(step)
      else {
        // Not rerun for this, but not trusted either: the next run runs it again.
        kept.delete(step)
        if (current?.reached.has(step)) current.stale.add(step)
      }
    }
    const steps = withDownstream(plan, [...now, ...later])
    const urgent = withDownstream(plan, now)
    const reached = current?.reached ?? new Set<string>()
    const interrupted = urgent.filter((id) => reached.has(id) && selfWrites.running(id))
    // An edit to the workflow that changed nothing, or did not load, has said all there is to say.
    const onlyModules = changes.every((change) => moduleSet.has(change.path))
    if (!(steps.length === 0 && onlyModules)) {
      emit({ type: "watch:change", time: Date.now(), files: changes.map((change) => relative(change.path)), steps, interrupted })
    }
    for (const id of steps) {
      kept.delete(id)
      current?.keep.delete(id)
      if (reached.has(id)) current?.stale.add(id)
    }
    if (steps.length === 0 && !reloaded) return
    if (current === undefined) return request(false)
    // A reload changes what the run under way should be running; a step it
    // already reached read what has just changed. Otherwise the run gets to
    // the affected steps and reads the new files itself.
    if (reloaded || urgent.some((id) => reached.has(id))) request(true)
    else if (later.size > 0) request(false)
  }

  /** Reloads the workflow if its modules' content changed; true when steps were added, removed or changed. */
  const reload = async (seeds: Set<string>): Promise<boolean> => {
    const files = moduleFiles(absolute)
    const digest = digestOf(files)
    const watchedBefore = modules.join("\0")
    // The watcher changes over in the background (the old one watches until
    // the new one is ready): a big tree's scan must not hold the rerun back.
    if (digest === modulesDigest) {
      modules = files
      if (files.join("\0") !== watchedBefore) void watcher.watch(targetOf())
      // Put back as it was when it last loaded (an undo, a checkout): the
      // workflow in use is that one, but the error shown must go.
      if (broken) {
        broken = false
        emit({ type: "watch:reload", time: Date.now(), file: shown, added: [], removed: [], changed: [] })
      }
      return false
    }
    let next: Workflow<any>
    let texts: ModuleTexts | undefined
    let nextPlan: Plan.Plan
    try {
      const loaded = await loadWithTexts(absolute, () => load(absolute))
      next = loaded.value
      texts = loaded.texts
      nextPlan = Plan.make(next, { file: shown, only: options.only, durations: options.durations })
    } catch (error) {
      broken = true
      emit({ type: "watch:error", time: Date.now(), file: shown, message: loadMessage(error) })
      // Watch what the broken file imports now too: fixing an import is an edit there.
      modules = [...new Set([...modules, ...files])].sort()
      if (modules.join("\0") !== watchedBefore) void watcher.watch(targetOf())
      return false
    }
    const nextDigest = makeStepDigest(next, absolute, texts)
    const diff = diffWorkflows(workflow, next, { before: stepDigest, after: nextDigest })
    broken = false
    workflow = next
    stepDigest = nextDigest
    // Read around the load: none means a save fell in between, and which text runs is unknown.
    sources = texts ?? "unknown"
    plan = nextPlan
    modules = files
    modulesDigest = digest
    for (const id of [...diff.removed, ...diff.changed]) {
      kept.delete(id)
      selfWrites.forget(id)
    }
    for (const id of [...diff.added, ...diff.changed]) seeds.add(id)
    emit({ type: "watch:reload", time: Date.now(), file: shown, ...diff })
    void watcher.watch(targetOf())
    return diff.added.length + diff.removed.length + diff.changed.length > 0
  }

  const close = async () => {
    state = "closing"
    wanted = false
    current?.controller.abort()
    await looping
    await watcher.close()
    await queue
    state = "closed"
  }
  let closing: Promise<void> | undefined
  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve))
  const closeOnce = () => (closing ??= close().finally(resolveClosed))

  const controls: WatchControls = {
    rerunAll: () =>
      void serially(() => {
        kept.clear()
        if (current !== undefined) for (const id of plan.ids) current.stale.add(id)
        request(true)
      }),
    rerunFailed: () => void serially(() => request(false)),
    clear: () => options.onClear?.(),
    quit: () => void closeOnce()
  }

  void serially(async () => {
    await watcher.watch(targetOf())
    request(false)
  })

  return { controls, closed, close: closeOnce }
}

/** A file's modification time (epoch ms), `undefined` when it is gone. */
const mtimeOf = (file: string): number | undefined => {
  try {
    return statSync(file).mtimeMs
  } catch {
    return undefined
  }
}

/** A pattern for exactly one file (module paths may hold glob characters). */
const literal = (file: string): WatchPattern => ({ base: file, glob: "", named: new Set() })

/** The workflow's own files: a module and every local module it imports, or a spec file alone. */
const moduleFiles = (absolute: string): Array<string> => (moduleExtension.test(absolute) ? localModules(absolute) : [absolute])

/** One digest over the files' contents (a missing file counts as missing). */
const digestOf = (files: ReadonlyArray<string>): string => {
  const hash = createHash("sha256")
  for (const file of files) {
    hash.update(file).update("\0")
    try {
      hash.update(readFileSync(file))
    } catch {
      hash.update("\0missing")
    }
    hash.update("\n")
  }
  return hash.digest("hex")
}

/** What `weft run` would say about a workflow that does not load or is not valid. */
const loadMessage = (error: unknown): string =>
  isDefinitionError(error) || (error as { _tag?: unknown })?._tag === "LoadError" ? (error as Error).message : describeError(error)

/** `weft run`'s loader, with the local modules of a reloaded file re-imported too. */
export const defaultLoad = (cwd: string) => async (file: string): Promise<Workflow<any>> => {
  const [{ loadWorkflow, prepareYaml }, { importedModules, installFreshImports }] = await Promise.all([import("../loadWorkflow.ts"), import("./freshImports.ts")])
  const entry = path.resolve(cwd, file)
  const imported = importedModules(entry, moduleFiles(entry))
  if (!installFreshImports() && imported.length > 0) {
    // The file would load afresh but the modules it imports would not: steps would rerun on stale helpers.
    throw new Error(
      `this Node (${process.version}) cannot re-import the modules ${path.basename(file)} imports (${imported.map((m) => path.relative(cwd, m)).join(", ")}); ` +
        `restart weft watch to pick up the edit, or use Node 22.15 or newer, which weft watch reloads them with`
    )
  }
  if (/\.ya?ml$/i.test(file)) await prepareYaml()
  return (await loadWorkflow(file, cwd, "watch")).workflow
}
