/**
 * What one run needs for caching and memoized calls: the store, the file
 * hasher, the module digest (or each function step's own source digest)
 * and the memo scope, made once per run from the
 * cache settings.
 */
import { createHash, randomUUID } from "node:crypto"
import * as path from "node:path"
import type { Workflow } from "../../dsl/Workflow.ts"
import { makeMemoScope, type MemoEvent, type MemoScope, type MemoScopeOptions } from "../memo.ts"
import type { Feature, Stage, StepRun } from "../Pipeline.ts"
import { rateLimit } from "../rateLimiting.ts"
import { makeFileHasher, type FileHasher } from "./fileHashes.ts"
import { makeFileStore } from "./FileStore.ts"
import type { CacheStore } from "./CacheStore.ts"
import { makeRemoteCache, type RemoteCacheSettings } from "./remote/RemoteCache.ts"
import { remoteCacheFromEnv } from "./remote/remoteSettings.ts"
import { makeTieredStore } from "./remote/TieredStore.ts"
import { moduleGraphDigest } from "./moduleGraph.ts"
import { resolveCacheOptions } from "../../dsl/cacheOptions.ts"
import { caching, makeStepKeys } from "./stage.ts"
import { cacheDirIn, defaultWeftDir, stepDigestsDirIn } from "../weftDir.ts"
import type { JournalOutputs } from "../journal/outputs.ts"
import type { StepDigest } from "../watch/diff.ts"
import type { ModuleTexts } from "../watch/moduleTexts.ts"

/** How a run uses the cache. */
export interface CacheSettings {
  /** `use` (default): read and write; `force`: run everything, then overwrite; `off`: neither read nor write. */
  readonly mode?: "use" | "force" | "off" | undefined
  /** The store's folder (default: `$WEFT_CACHE_DIR`, else `cache` in `weftDir`). */
  readonly dir?: string | undefined
  /**
   * The store's size budget: after a run, expired entries and then the least
   * recently used beyond it are pruned, at most once an hour (bytes, or a size
   * like "500MB"; default `$WEFT_CACHE_MAX_SIZE`, else 5 GiB). See `autoPrune.ts`.
   */
  readonly maxSize?: number | string | undefined
  /** Weft's folder, where the file digests are kept whatever `dir` is (default: `defaultWeftDir(root)`; the run's `weftDir`). */
  readonly weftDir?: string | undefined
  /** The workflow's folder: input and output globs are relative to it (default: the current directory). */
  readonly root?: string | undefined
  /** The workflow file, so function steps' keys cover it and the local modules it imports. */
  readonly file?: string | undefined
  /**
   * The texts of `file` and its local modules as the workflow was loaded from
   * them (`loadWithTexts`; `weft run` and `weft watch` pass them). With them,
   * a function step's key covers only the source it depends on, when that can
   * be proven (`makeStepDigest`): editing one step leaves the others cached.
   * Texts that are not those the workflow was loaded from can give a wrong hit.
   * `"unknown"`: the workflow came from `file`, but a save fell during the
   * load, so which text it runs is unknown: its function steps get keys no
   * later run can produce (nothing stale is ever reused), with a warning.
   */
  readonly moduleTexts?: ModuleTexts | "unknown" | undefined
  /**
   * A shared cache behind the local store, over the Turborepo Remote Cache
   * API (default: from `$WEFT_REMOTE_CACHE` and its companions, see
   * `remoteCacheFromEnv`; `false`: none, whatever the environment says).
   */
  readonly remote?: RemoteCacheSettings | false | undefined
}

/**
 * The default store folder for a workflow in `root`: `$WEFT_CACHE_DIR`, else
 * `cache` in weft's folder (`weftDir`, else `defaultWeftDir(root)`).
 */
export const defaultCacheDir = (root: string, weftDir?: string): string => {
  const named = process.env.WEFT_CACHE_DIR
  return named === undefined || named === "" ? cacheDirIn(weftDir ?? defaultWeftDir(root)) : path.resolve(named)
}

export interface RunCacheParts {
  /** The cache stage, when the run caches anything. */
  readonly stage: Stage | undefined
  readonly memo: MemoScope
  /** A step's key, as the cache stage computes it (`{}` options for a step that is not cached): the run journal's. */
  readonly keyOf: (step: StepRun) => Promise<string>
  /** When `keyOf` may be left to finish after the step starts (`StepKeys.readyOf`). */
  readonly readyOf: (step: StepRun) => Promise<void>
  /** What the run journal needs to record a step's declared output files and, on resume, restore them. */
  readonly outputs: JournalOutputs
}

export const makeRunCache = (
  wf: Workflow<any>,
  settings: CacheSettings,
  hooks: {
    readonly now: () => number
    readonly onWarning: (message: string) => void
    readonly onMemo: (event: MemoEvent) => void
    readonly rateLimit?: MemoScopeOptions["rateLimit"]
  }
): RunCacheParts => {
  const mode = settings.mode ?? "use"
  const root = path.resolve(settings.root ?? process.cwd())
  const weftDir = path.resolve(root, settings.weftDir ?? defaultWeftDir(root))
  const dir = path.resolve(root, settings.dir ?? defaultCacheDir(root, weftDir))
  const remoteSettings = mode === "off" || settings.remote === false ? undefined : settings.remote ?? remoteCacheFromEnv(process.env)
  // One client per run: once the remote fails, no step of the run asks it again.
  const remote = remoteSettings === undefined ? undefined : makeRemoteCache(remoteSettings, { onWarning: hooks.onWarning })
  const storeOf = (warn: (message: string) => void): CacheStore => {
    const local = makeFileStore(dir, { onWarning: warn })
    return remote === undefined ? local : makeTieredStore(local, remote, { onWarning: hooks.onWarning })
  }
  const store = mode === "off" ? undefined : storeOf(hooks.onWarning)
  const memo = makeMemoScope({ store, workflow: wf.name, onMemo: hooks.onMemo, onWarning: hooks.onWarning, rateLimit: hooks.rateLimit })
  // Made on first use: a run that neither caches nor journals reads no files for them.
  let hasher: FileHasher | undefined
  let modules: { readonly digest: string | undefined } | undefined
  const entry = settings.file === undefined ? undefined : path.resolve(root, settings.file)
  const given = settings.moduleTexts
  const texts = entry !== undefined && given !== undefined && given !== "unknown" && given.has(entry) ? given : undefined
  const hasherOf = () => (hasher ??= makeFileHasher(path.join(weftDir, "file-hashes.json")))
  // From the texts when given: those are what the code was loaded from, while the disk may have moved on since.
  const modulesOf = () =>
    (modules ??= { digest: entry === undefined ? undefined : given === "unknown" ? unknownCode(entry, hooks.onWarning) : texts === undefined ? moduleGraphDigest(entry) : textsDigest(entry, texts) }).digest
  const optionsOf = (step: StepRun) => resolveCacheOptions(step.def.cache, wf.options.cache)
  // One key per step, shared by the journal and the cache stage.
  const keys = makeStepKeys(hasherOf, modulesOf, root, optionsOf, texts === undefined ? undefined : sourcesOf(wf, entry!, texts, stepDigestsDirIn(weftDir)))
  const { keyOf: keyOfStep, readyOf } = keys
  const outputs: JournalOutputs = {
    root,
    globsOf: (step) => optionsOf(step)?.outputs ?? [],
    hasher: hasherOf,
    storeFor: mode === "off" ? undefined : (warn) => makeFileStore(dir, { onWarning: warn })
  }
  const cached = mode !== "off" && wf.steps.some((def) => resolveCacheOptions(def.cache, wf.options.cache) !== undefined)
  if (!cached) return { stage: undefined, memo, keyOf: keyOfStep, readyOf, outputs }
  modulesOf() // at the start of the run, before any step can see an edit
  const stage = caching({
    storeFor: storeOf,
    hasher: hasherOf(),
    keys,
    root,
    mode: mode === "force" ? "force" : "use",
    now: hooks.now,
    optionsOf,
    // On the store's disk, but not in its `tmp`, whose old files a prune removes: a step may print for longer than that.
    spillDir: path.join(dir, "output")
  })
  return { stage, memo, keyOf: keyOfStep, readyOf, outputs }
}

declare module "../Pipeline.ts" {
  interface StepFeatures {
    /** The run's memoized calls, shared by every step. */
    memo?: MemoScope | undefined
  }
}

/**
 * The cache feature: the cache stage, when the run caches anything, and the
 * memo scope every step's code calls through. What it provides (the step
 * keys, the output files) the journal uses. A memoized call with a rate limit
 * waits for its turn of the run's limiter (`rateLimit`'s `memoTurn`).
 */
export const cache: Feature<RunCacheParts> = {
  name: "cache",
  setup: (run) => {
    const { plan, now } = run
    const parts = makeRunCache(plan.workflow, run.options.cache, {
      now,
      onWarning: run.warn,
      onMemo: (event) => {
        const step = event.step === undefined ? undefined : plan.indexOf.get(event.step)
        if (step !== undefined) {
          run.send({ type: "step:memo", step, time: now(), name: event.name, outcome: event.outcome, savedMs: event.savedMs, keys: event.keys })
        }
      },
      rateLimit: run.use(rateLimit).memoTurn
    })
    const memo = parts.memo
    return {
      stage: parts.stage,
      prepare: (step) => {
        step.features.memo = memo
      },
      provides: parts
    }
  }
}

/**
 * The stand-in digest of code whose text is unknown: unique to this run, so
 * its function steps' results are never found by another run.
 */
const unknownCode = (entry: string, warn: (message: string) => void): string => {
  warn(`${path.basename(entry)} (or a module it imports) changed while weft loaded it: its function steps are not reused from the cache, nor kept for later runs, this time`)
  return `unknown:${randomUUID()}`
}

/** `moduleGraphDigest` of the files as `texts` holds them (the same digest for the same contents). */
const textsDigest = (entry: string, texts: ModuleTexts): string => {
  const root = path.dirname(entry)
  const hash = createHash("sha256")
  for (const file of [...texts.keys()].sort()) {
    hash.update(path.relative(root, file)).update("\0")
    hash.update(createHash("sha256").update(texts.get(file)!, "utf8").digest("hex")).update("\n")
  }
  return hash.digest("hex")
}

/**
 * Each function step's own source digest, or `undefined` when the workflow
 * caches no function step. Read from those saved for the same texts in
 * `dir` (`savedDigests.ts`), else computed by parsing the module (acorn,
 * loaded on demand) and saved: once, at the first key asked for, so a run
 * without cached function steps pays nothing for it at start-up.
 */
const sourcesOf = (wf: Workflow<any>, entry: string, texts: ModuleTexts, dir: string): ((step: StepRun) => Promise<string | undefined> | undefined) | undefined => {
  const wanted = wf.steps.some((def) => typeof def.run === "function" && resolveCacheOptions(def.cache, wf.options.cache) !== undefined)
  if (!wanted) return undefined
  const unprovable: StepDigest = () => undefined
  // Reading the saved digests starts with the run (a small file); parsing, on a miss, waits for the first key that needs it.
  const saved = import("../watch/savedDigests.ts").then(({ savedStepDigests }) => savedStepDigests(wf, entry, texts, dir))
  saved.catch(() => {})
  let digests: Promise<StepDigest> | undefined
  return (step) => {
    if (typeof step.def.run !== "function") return undefined
    // Anything unexpected proves nothing: the module digest stands in.
    digests ??= saved.then((found) => found.digests()).catch(() => unprovable)
    return digests.then((digest) => digest(step.def))
  }
}
