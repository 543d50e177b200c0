/**
 * The cache stage of the step pipeline: look the step's key up before it
 * runs, and store its result after. A hit restores the output value, replays
 * the step's log lines (marked replayed) and restores declared output files;
 * the step then ends `cached` without ever starting.
 *
 * Never a wrong result: the key is computed from what the step will read, a
 * result is stored only when those inputs did not change while it ran, an
 * interrupted or failed step stores nothing, and anything that goes wrong
 * with the cache itself is a warning and a miss, never a failed step.
 */
import * as Effect from "effect/Effect"
import type { CacheOptions } from "../../dsl/Step.ts"
import type { LogStream } from "../Event.ts"
import type { StepRun, Stage } from "../Pipeline.ts"
import { toMillis } from "../internal/duration.ts"
import { describeError } from "../internal/describeError.ts"
import type { CacheStore } from "./CacheStore.ts"
import type { FileHasher } from "./fileHashes.ts"
import { captureOutputs, outputsOnDisk, restoreOutputs } from "./outputs.ts"
import { deserializeValue, serializeValue } from "./serialize.ts"
import { stepKey } from "./stepKey.ts"

/** What the cache stage of one run works with. */
export interface RunCache {
  /** The store, reporting its warnings (a corrupt entry, say) through `warn`. */
  readonly storeFor: (warn: (message: string) => void) => CacheStore
  readonly hasher: FileHasher
  /** Digest of the workflow file and its local imports, when the file is known. */
  readonly modules: string | undefined
  /** The workflow's folder: globs and output paths are relative to it. */
  readonly root: string
  /** `use`: read and write; `force`: run, then overwrite. */
  readonly mode: "use" | "force"
  readonly now: () => number
  /** The cache options of a step, with the workflow's defaults applied; `undefined`: not cached. */
  readonly optionsOf: (step: StepRun) => CacheOptions | undefined
}

/** Log lines kept with an entry, at most: a step that prints more is replayed in part. */
const maxLoggedLines = 10_000

/**
 * The key of `step` under `options` (`{}` for a step that is not cached: the
 * run journal keys every step), given the digest of its `cache.inputs` files.
 * The cache and the run journal share it, so a step is replayed by either
 * exactly when its key is unchanged.
 */
export const keyOf = (step: StepRun, options: CacheOptions, modules: string | undefined, files: string): string =>
  stepKey({
    workflow: step.workflow,
    step: step.def,
    modules,
    inputs: step.inputs,
    userKey: typeof options.key === "function" ? options.key(step.inputs) : options.key,
    files,
    env: options.env ?? [],
    outputs: options.outputs ?? []
  })

export const caching = (cache: RunCache): Stage => (step, next) => {
  const options = cache.optionsOf(step)
  if (options === undefined) return next
  const warn = (message: string) => step.report({ kind: "log", stream: "stderr", text: `weft: cache: ${message}` })
  const store = cache.storeFor(warn)
  const attempt = <A>(what: string, f: () => Promise<A>): Effect.Effect<A | undefined> =>
    Effect.promise(() =>
      f().catch((error) => {
        warn(`${what}: ${describeError(error)}`)
        return undefined
      })
    )
  const keyFor = (files: string) => keyOf(step, options, cache.modules, files)
  const hashInputs = () => cache.hasher.hashGlobs(cache.root, options.inputs ?? [])

  return Effect.gen(function*() {
    const before = yield* attempt("hashing inputs", hashInputs)
    const key = before === undefined ? undefined : yield* attempt("computing the key", async () => keyFor(before.digest))
    if (key === undefined) return yield* next
    if (cache.mode === "use") {
      const hit = yield* attempt("reading", () => lookup(cache, store, key, warn))
      if (hit !== undefined) {
        for (const line of hit.logs) step.report({ kind: "log", stream: line.stream, text: line.text, replayed: true })
        step.cached = { savedMs: hit.durationMs }
        return hit.value
      }
    }
    const logs: Array<{ stream: LogStream; text: string }> = []
    let dropped = 0
    step.logTap = (stream, text) => {
      if (logs.length < maxLoggedLines) logs.push({ stream, text })
      else dropped++
    }
    const started = cache.now()
    const value = yield* next
    const durationMs = cache.now() - started
    step.logTap = undefined
    yield* attempt("storing", async () => {
      const after = await hashInputs()
      if (after.digest !== before!.digest) {
        warn(`not cached: an input file changed while the step ran (${changed(before!.files, after.files).join(", ")})`)
        return
      }
      const produced = await cache.hasher.hashGlobs(cache.root, options.outputs ?? [])
      const { files, blobs } = await captureOutputs(cache.root, produced.files)
      if (dropped > 0) logs.push({ stream: "stderr", text: `weft: … ${dropped} more log lines were not kept in the cache` })
      const ttlMs = options.ttl === undefined ? undefined : toMillis(options.ttl)
      await store.put({
        key,
        kind: "step",
        workflow: step.workflow,
        name: step.id,
        value: serializeValue(value, { step: step.id }),
        logs,
        files,
        durationMs,
        createdAt: cache.now(),
        expiresAt: ttlMs === undefined || ttlMs === Infinity ? undefined : cache.now() + ttlMs
      }, blobs)
    })
    return value
  })
}

/** A usable hit: the entry, with its outputs on disk as stored (restored if need be). */
const lookup = async (cache: RunCache, store: CacheStore, key: string, warn: (message: string) => void) => {
  const entry = await store.get(key)
  if (entry === undefined) return undefined
  if (entry.files.length > 0 && !(await outputsOnDisk(cache.root, entry.files))) {
    if (!(await restoreOutputs(cache.root, entry.files, store, warn))) return undefined
  }
  return { value: deserializeValue(entry.value), logs: entry.logs, durationMs: entry.durationMs }
}

const changed = (before: ReadonlyArray<{ path: string; digest: string }>, after: ReadonlyArray<{ path: string; digest: string }>) => {
  const was = new Map(before.map((f) => [f.path, f.digest]))
  const now = new Map(after.map((f) => [f.path, f.digest]))
  return [...new Set([...was.keys(), ...now.keys()])].filter((p) => was.get(p) !== now.get(p)).slice(0, 5)
}
