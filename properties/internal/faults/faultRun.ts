/**
 * Runs of a workflow with a fault, each in a throwaway copy of its folder
 * with a cache of its own (mode `use`, so that what a failed step would
 * store is seen), and what the checks look at afterwards: the events, the
 * result, the steps the cache holds, the processes left running.
 */
import * as path from "node:path"
import type { Workflow } from "../../../dsl/Workflow.ts"
import { makeFileStore } from "../../../runtime/cache/index.ts"
import type { Event } from "../../../runtime/Event.ts"
import type { Executor } from "../../../runtime/Executor.ts"
import type { Stage } from "../../../runtime/Pipeline.ts"
import { run, type RunOptions } from "../../../runtime/Run.ts"
import type { RunResult } from "../../../runtime/RunState.ts"
import { inFolder } from "../inFolder.ts"
import { makeThrowawayCopy } from "../throwawayCopy.ts"
import { leftoversSince, processesNow, type Leftover } from "./processes.ts"

export interface FaultRunSettings {
  readonly folder: string
  readonly only?: ReadonlyArray<string> | undefined
}

/** One run as the checks see it. */
export interface RunSeen {
  /** The run did not end within its bound, and was cancelled (see `runWithin`). */
  readonly hung: boolean
  /** Undefined when it did not end even cancelled. */
  readonly result: RunResult | undefined
  readonly events: ReadonlyArray<Event>
  /** The steps the cache holds an entry for after the run. */
  readonly cached: ReadonlySet<string>
  /** Processes the run started that were still running after it. */
  readonly leftovers: ReadonlyArray<Leftover>
}

/** A copy of the workflow's folder to run in, and the options every run in it shares. */
export interface Workspace {
  readonly dir: string
  readonly options: (executor: Executor, stages: ReadonlyArray<Stage> | undefined) => RunOptions
}

/**
 * Calls `use` in a fresh copy of `settings.folder`, with the process in it
 * (function steps' relative paths, as in `observe`), and removes the copy after.
 */
export const inWorkspace = async <A>(settings: FaultRunSettings, use: (workspace: Workspace) => Promise<A>): Promise<A> => {
  const copy = makeThrowawayCopy(settings.folder)
  const weftDir = path.join(copy.dir, ".weft")
  try {
    return await inFolder(copy.dir, () => use({
      dir: copy.dir,
      options: (executor, stages) => ({
        cwd: copy.dir,
        weftDir,
        executor,
        stages,
        // A store of the copy's own, never the shared one: what it holds afterwards came from this run.
        cache: { mode: "use", dir: path.join(weftDir, "cache"), remote: false },
        failFast: false,
        only: settings.only
      })
    }))
  } finally {
    copy.remove()
  }
}

/** The steps `dir`'s cache store holds an entry for. */
export const cachedSteps = async (dir: string): Promise<Set<string>> =>
  new Set((await makeFileStore(dir).list()).filter((entry) => entry.kind === "step").map((entry) => entry.name))

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Runs and looks: `boundMs` is how long the run may take before it counts
 * as hung; it is then cancelled, and given as long again to end. A run that
 * ends neither way is left behind (its copy goes) and has no result.
 */
export const runWithin = async (wf: Workflow<any>, options: RunOptions, boundMs: number): Promise<RunSeen> => {
  const before = processesNow()
  const events: Array<Event> = []
  const controller = new AbortController()
  options.signal?.addEventListener("abort", () => controller.abort(), { once: true })
  const running = run(wf, {
    ...options,
    signal: controller.signal,
    onEvent: (event) => {
      events.push(event)
      options.onEvent?.(event)
    }
  })
  const within = () => Promise.race([running, sleep(boundMs).then(() => undefined)])
  const first = await within()
  if (first === undefined) controller.abort()
  const result = first ?? await within()
  const dir = options.cache?.dir
  return {
    hung: first === undefined,
    result,
    events,
    cached: dir === undefined ? new Set() : await cachedSteps(dir),
    leftovers: await leftoversSince(before)
  }
}
