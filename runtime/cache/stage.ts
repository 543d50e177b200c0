/**
 * The cache stage of the step pipeline: look the step's key up before it
 * runs, and store its result after. A hit restores the output value, replays
 * the step's log lines and streamed parts (marked replayed) and restores
 * declared output files; the step then ends `cached` without ever starting.
 *
 * Never a wrong result: the key is computed from what the step will read, a
 * result is stored only when those inputs did not change while it ran, an
 * interrupted or failed step stores nothing, and anything that goes wrong
 * with the cache itself is a warning and a miss, never a failed step.
 */
import * as Effect from "effect/Effect"
import type { CacheOptions } from "../../dsl/Step.ts"
import type { StepRun, Stage } from "../Pipeline.ts"
import { toMillis } from "../../dsl/duration.ts"
import { describeError } from "../internal/describeError.ts"
import { outputFilesIn } from "../internal/outputFile.ts"
import { captureOutput, replayOutput, replaySpilled } from "../internal/stepOutput.ts"
import type { CacheLease, CacheStore } from "./CacheStore.ts"
import type { FileHasher, FileSetDigest } from "./fileHashes.ts"
import { captureOutputs, outputsOnDisk, refusedOutput, removeStaleTemps, restoreOutputs } from "./outputs.ts"
import { deserializeValue, serializeValue } from "./serialize.ts"
import { stepKey, type KeyParts } from "./stepKey.ts"

/** What the cache stage of one run works with. */
export interface RunCache {
  /** The store, reporting its warnings (a corrupt entry, say) through `warn`. */
  readonly storeFor: (warn: (message: string) => void) => CacheStore
  readonly hasher: FileHasher
  /**
   * The step's `cache.inputs` digest and key before it runs, computed once per
   * step and shared with the run journal (see `makeStepKeys`).
   */
  readonly keys: StepKeys
  /** The workflow's folder: globs and output paths are relative to it. */
  readonly root: string
  /** `use`: read and write; `force`: run, then overwrite. */
  readonly mode: "use" | "force"
  readonly now: () => number
  /** The cache options of a step, with the workflow's defaults applied; `undefined`: not cached. */
  readonly optionsOf: (step: StepRun) => CacheOptions | undefined
  /**
   * Where a step's output goes while it runs once it outgrows memory, to be
   * stored as a blob; without it, what outgrows memory is not kept.
   */
  readonly spillDir?: string | undefined
}

/**
 * The key of `step` under `options` (`{}` for a step that is not cached: the
 * run journal keys every step), given the digest of its `cache.inputs` files.
 * The cache and the run journal share it, so a step is replayed by either
 * exactly when its key is unchanged.
 */
export const keyOf = (step: StepRun, options: CacheOptions, modules: string | undefined, files: string, source?: string | undefined): string =>
  stepKey({ ...keyParts(step, options, modules, files), source })

/**
 * Everything in a step's key but its source digest, read now: the values of
 * the variables it names and its `cache.key` (the step, once it runs, could
 * change them), so that a key finished later is the key of the step as it
 * was before it ran.
 */
const keyParts = (step: StepRun, options: CacheOptions, modules: string | undefined, files: string): KeyParts => {
  // The values of what the step may read enter the key (hashed, as `cache.env` does).
  const env = step.env.declared.length === 0 ? options.env ?? [] : [...(options.env ?? []), ...step.env.declared]
  const environment: NodeJS.ProcessEnv = {}
  for (const name of env) environment[name] = process.env[name]
  return {
    workflow: step.workflow,
    step: step.def,
    modules,
    inputs: step.inputs,
    userKey: typeof options.key === "function" ? options.key(step.inputs) : options.key,
    files,
    env,
    outputs: options.outputs ?? [],
    environment
  }
}

/** A step's `cache.inputs` files and key, each computed at most once per step execution. */
export interface StepKeys {
  /** The digest of the files the step's `cache.inputs` match. */
  readonly inputsOf: (step: StepRun) => Promise<FileSetDigest>
  /** The step's key (`keyOf`) over those files. */
  readonly keyOf: (step: StepRun) => Promise<string>
  /**
   * Settles once everything the key reads from outside the workflow's code
   * (files, variables, `cache.key`) is read: after it, the step may run and
   * `keyOf` still gives its key as it was before. Only its source digest,
   * which depends on the loaded texts alone, may be left to compute (a
   * parse, `savedDigests.ts`): the run journal, which needs the key only to
   * record the step, does not hold the step's start for it.
   */
  readonly readyOf: (step: StepRun) => Promise<void>
}

/**
 * Memoizes, per `StepRun`, the input hashing and the key: the journal stage
 * and the cache stage ask for the same key, and a hit should not hash its
 * inputs or canonicalize its needs twice. Failures are kept too, so each
 * stage reports them as it always did.
 */
export const makeStepKeys = (
  hasher: () => FileHasher,
  modules: () => string | undefined,
  root: string,
  optionsOf: (step: StepRun) => CacheOptions | undefined,
  /** The step's own source digest (see `KeyParts.source`); `undefined` (not a promise) when there is none to wait for. */
  sourceOf: (step: StepRun) => Promise<string | undefined> | undefined = () => undefined
): StepKeys => {
  const inputs = new WeakMap<StepRun, Promise<FileSetDigest>>()
  const parts = new WeakMap<StepRun, Promise<KeyParts>>()
  const keys = new WeakMap<StepRun, Promise<string>>()
  const inputsOf = (step: StepRun): Promise<FileSetDigest> => {
    let files = inputs.get(step)
    if (files === undefined) {
      files = hasher().hashGlobs(root, (optionsOf(step) ?? {}).inputs ?? [])
      inputs.set(step, files)
    }
    return files
  }
  const partsOf = (step: StepRun): Promise<KeyParts> => {
    let found = parts.get(step)
    if (found === undefined) {
      found = inputsOf(step).then((files) => keyParts(step, optionsOf(step) ?? {}, modules(), files.digest))
      parts.set(step, found)
    }
    return found
  }
  return {
    inputsOf,
    readyOf: (step) => partsOf(step).then(() => undefined),
    keyOf: (step) => {
      let key = keys.get(step)
      if (key === undefined) {
        const source = sourceOf(step)
        key = source === undefined
          ? partsOf(step).then(stepKey)
          : Promise.all([partsOf(step), source]).then(([found, digest]) => stepKey({ ...found, source: digest }))
        keys.set(step, key)
      }
      return key
    }
  }
}

export const caching = (cache: RunCache): Stage => (step, next) => {
  const options = cache.optionsOf(step)
  if (options === undefined) return next
  const warn = (message: string) => step.report({ type: "step:log", stream: "stderr", text: `weft: cache: ${message}` })
  const store = cache.storeFor(warn)
  const guard = <A>(what: string, f: () => Promise<A>): Promise<A | undefined> =>
    f().catch((error) => {
      warn(`${what}: ${describeError(error)}`)
      return undefined
    })
  const attempt = <A>(what: string, f: () => Promise<A>): Effect.Effect<A | undefined> => Effect.promise(() => guard(what, f))
  const hashInputs = () => cache.hasher.hashGlobs(cache.root, options.inputs ?? [])
  /** Inputs, key and, in `use` mode, the hit: one trip out of the fiber for the lot, as a hit is all of it. */
  const prepare = async () => {
    const before = await guard("hashing inputs", async () => cache.keys.inputsOf(step))
    if (before === undefined) return undefined
    const key = await guard("computing the key", async () => cache.keys.keyOf(step))
    if (key === undefined) return undefined
    const hit = cache.mode === "use" ? await guard("reading", () => lookup(cache, store, key, options.outputs ?? [], warn)) : undefined
    return { before, key, hit }
  }

  const replay = (hit: Hit) => Effect.gen(function*() {
    if (hit.blob === undefined) replayOutput(step, hit)
    else yield* Effect.promise((signal) => replaySpilled(step, hit.blob!.chunks, hit.blob!.skipParts, signal))
    step.cached = { savedMs: hit.durationMs, stored: { value: hit.value, valueBytes: hit.valueBytes, outputs: hit.files } }
    return hit.value
  })
  /**
   * The key's lease, or `undefined` when the store cannot give one (said, and
   * the step runs unguarded, as before leases). Interrupting the step aborts
   * the wait.
   */
  const takeLease = (key: string, signal: AbortSignal): Promise<CacheLease | undefined> =>
    store.lease(key, { signal, onWait: (holder) => warn(`waiting for ${holder}, which is running this step with the same key`) }).catch((error) => {
      if (signal.aborted) throw error
      warn(`taking the lease: ${describeError(error)}`)
      return undefined
    })
  const release = (lease: CacheLease | undefined) => lease === undefined ? Effect.void : Effect.promise(() => lease.release().catch(() => {}))

  /** Runs the step and stores what it made, unless an input changed meanwhile. */
  const execute = (before: FileSetDigest, key: string) => Effect.gen(function*() {
    const capture = captureOutput(step, { spillTo: cache.spillDir === undefined ? undefined : outputFilesIn(cache.spillDir) })
    const started = cache.now()
    const value = yield* Effect.onError(next, () => Effect.sync(capture.discard))
    const durationMs = cache.now() - started
    const { logs, partials, spilled } = capture.stop("the cache")
    yield* Effect.ensuring(attempt("storing", async () => {
      const after = await hashInputs()
      if (after.digest !== before.digest) {
        warn(`not cached: an input file changed while the step ran (${changed(before.files, after.files).join(", ")})`)
        return
      }
      const produced = await cache.hasher.hashGlobs(cache.root, options.outputs ?? [])
      if (produced.temps !== undefined) await removeStaleTemps(produced.temps)
      const { files, blobs } = await captureOutputs(cache.root, produced.files)
      if (spilled !== undefined) blobs.set(spilled.digest, spilled.file)
      const ttlMs = options.ttl === undefined ? undefined : toMillis(options.ttl)
      await store.put({
        key,
        kind: "step",
        workflow: step.workflow,
        name: step.id,
        value: serializeValue(value, { step: step.id }),
        logs,
        ...(partials.length === 0 ? {} : { partials }),
        files,
        ...(spilled === undefined ? {} : { output: { digest: spilled.digest, size: spilled.bytes, skipParts: spilled.skipParts } }),
        durationMs,
        createdAt: cache.now(),
        expiresAt: ttlMs === undefined || ttlMs === Infinity ? undefined : cache.now() + ttlMs
      }, blobs)
    }), Effect.sync(capture.discard))
    return value
  })

  return Effect.gen(function*() {
    const prepared = yield* Effect.promise(prepare)
    if (prepared === undefined) return yield* next
    const { before, key, hit } = prepared
    if (hit !== undefined) return yield* replay(hit)
    // One execution per key across runs and processes: the key is held from
    // the miss to the put, so the entry is that execution's value, logs and
    // files, and a run that waited for it takes its hit instead of running.
    return yield* Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(restore(Effect.promise((signal) => takeLease(key, signal))), (lease) =>
        restore(Effect.gen(function*() {
          if (lease !== undefined && cache.mode === "use") {
            const late = yield* attempt("reading", () => lookup(cache, store, key, options.outputs ?? [], warn))
            if (late !== undefined) return yield* replay(late)
          }
          return yield* execute(before, key)
        })).pipe(Effect.ensuring(release(lease))))
    )
  })
}

type Hit = NonNullable<Awaited<ReturnType<typeof lookup>>>

/** A usable hit: the entry, with its outputs on disk as stored (restored if need be). */
const lookup = async (cache: RunCache, store: CacheStore, key: string, globs: ReadonlyArray<string>, warn: (message: string) => void) => {
  const entry = await store.get(key)
  if (entry === undefined) return undefined
  // Checked before the disk too: an entry naming files the step does not declare is not this step's, even if nothing needs restoring.
  const refused = refusedOutput(cache.root, entry.files, globs)
  if (refused !== undefined) {
    warn(`cache entry refused: ${refused}`)
    return undefined
  }
  if (entry.files.length > 0 && !(await outputsOnDisk(cache.root, entry.files))) {
    if (!(await restoreOutputs(cache.root, entry.files, globs, store, warn))) return undefined
  }
  // Last, as it reads the whole blob to check it: an entry missed for its files costs no such read.
  const chunks = entry.output === undefined ? undefined : await store.openBlob(entry.output.digest)
  if (entry.output !== undefined && chunks === undefined) return undefined
  return {
    value: deserializeValue(entry.value),
    valueBytes: entry.value,
    files: entry.files,
    logs: entry.logs,
    partials: entry.partials ?? [],
    blob: chunks === undefined ? undefined : { chunks, skipParts: entry.output!.skipParts },
    durationMs: entry.durationMs
  }
}

const changed = (before: ReadonlyArray<{ path: string; digest: string }>, after: ReadonlyArray<{ path: string; digest: string }>) => {
  const was = new Map(before.map((f) => [f.path, f.digest]))
  const now = new Map(after.map((f) => [f.path, f.digest]))
  return [...new Set([...was.keys(), ...now.keys()])].filter((p) => was.get(p) !== now.get(p)).slice(0, 5)
}
