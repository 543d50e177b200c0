/**
 * What one run needs for caching and memoized calls: the store, the file
 * hasher, the module digest and the memo scope, made once per run from the
 * cache settings.
 */
import * as path from "node:path"
import type { Workflow } from "../../dsl/Workflow.ts"
import { makeMemoScope, type MemoEvent, type MemoScope, type MemoScopeOptions } from "../memo.ts"
import type { Stage, StepRun } from "../Pipeline.ts"
import { makeFileHasher, type FileHasher } from "./fileHashes.ts"
import { makeFileStore } from "./FileStore.ts"
import { moduleGraphDigest } from "./moduleGraph.ts"
import { resolveCacheOptions } from "./options.ts"
import { caching, makeStepKeys } from "./stage.ts"

/** How a run uses the cache. */
export interface CacheSettings {
  /** `use` (default): read and write; `force`: run everything, then overwrite; `off`: neither read nor write. */
  readonly mode?: "use" | "force" | "off" | undefined
  /** The store's folder (default: `$WEFT_CACHE_DIR`, else `.weft/cache` under `root`). */
  readonly dir?: string | undefined
  /** The workflow's folder: input and output globs are relative to it (default: the current directory). */
  readonly root?: string | undefined
  /** The workflow file, so function steps' keys cover it and the local modules it imports. */
  readonly file?: string | undefined
}

/** The default store folder for a workflow in `root`. */
export const defaultCacheDir = (root: string): string => process.env.WEFT_CACHE_DIR ?? path.join(root, ".weft", "cache")

export interface RunCacheParts {
  /** The cache stage, when the run caches anything. */
  readonly stage: Stage | undefined
  readonly memo: MemoScope
  /** A step's key, as the cache stage computes it (`{}` options for a step that is not cached): the run journal's. */
  readonly keyOf: (step: StepRun) => Promise<string>
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
  const dir = path.resolve(settings.dir ?? defaultCacheDir(root))
  const store = mode === "off" ? undefined : makeFileStore(dir, { onWarning: hooks.onWarning })
  const memo = makeMemoScope({ store, workflow: wf.name, onMemo: hooks.onMemo, onWarning: hooks.onWarning, rateLimit: hooks.rateLimit })
  // Made on first use: a run that neither caches nor journals reads no files for them.
  let hasher: FileHasher | undefined
  let modules: { readonly digest: string | undefined } | undefined
  const hasherOf = () => (hasher ??= makeFileHasher(path.join(dir, "..", "file-hashes.json")))
  const modulesOf = () =>
    (modules ??= { digest: settings.file === undefined ? undefined : moduleGraphDigest(path.resolve(root, settings.file)) }).digest
  const optionsOf = (step: StepRun) => resolveCacheOptions(step.def.cache, wf.options.cache)
  // One key per step, shared by the journal and the cache stage.
  const keys = makeStepKeys(hasherOf, modulesOf, root, optionsOf)
  const keyOfStep = keys.keyOf
  const cached = mode !== "off" && wf.steps.some((def) => resolveCacheOptions(def.cache, wf.options.cache) !== undefined)
  if (!cached) return { stage: undefined, memo, keyOf: keyOfStep }
  modulesOf() // at the start of the run, before any step can see an edit
  const stage = caching({
    storeFor: (warn) => makeFileStore(dir, { onWarning: warn }),
    hasher: hasherOf(),
    keys,
    root,
    mode: mode === "force" ? "force" : "use",
    now: hooks.now,
    optionsOf
  })
  return { stage, memo, keyOf: keyOfStep }
}
