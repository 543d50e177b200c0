/**
 * Function steps' source digests (`stepSources.ts`) kept across runs, so that
 * a run of an unchanged workflow does not parse it again: parsing (acorn over
 * Node's type stripping) was most of the time between `run:start` and the
 * first step's start (90-180 ms of a 15-step workflow's 130-180 ms).
 *
 * An entry is found by the exact inputs the digests were computed from, hashed
 * into its file name: the texts of the workflow module and its local modules
 * (with their paths), the workflow's steps (ids, in order, and each function's
 * source), weft's version and folder, the code that computes the digests
 * (`stepSources` and `internal/`, so an edit to weft itself is a new name
 * even without a new version), acorn's version and Node's (which strips the
 * types). A different text is a different name, so an entry can only be
 * used for the text it was made from. The one input not in the name, the
 * versions of the packages the modules import, is stored in the entry and
 * checked against node_modules on every use.
 *
 * ```
 * .weft/step-digests/<sha256 of the inputs>.json
 *   { "format": 1, "key": "<the same hash>", "digests": { "<step id>": "<digest>" | null }, "packages": [...], "check": "<sha256>" }
 * ```
 *
 * Anything unreadable, corrupt, for another key or another format is a miss:
 * the digests are computed again and the entry rewritten, atomically, right
 * after the parse; only the newest `keep` entries are kept.
 */
import { createHash } from "node:crypto"
import { mkdirSync, promises as fs, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import type { StepDef } from "../../dsl/Step.ts"
import type { Workflow } from "../../dsl/Workflow.ts"
import { tempName } from "../internal/atomic.ts"
import { buildId, fromSource, weftRoot, weftVersion } from "../packageRoot.ts"
import type { StepDigest } from "./diff.ts"
import type { PackageRead } from "./internal/imports.ts"
import { installedVersion } from "./internal/packageVersion.ts"
import type { ModuleTexts } from "./moduleTexts.ts"

/** Bumped whenever how step digests are computed changes: every saved entry becomes a miss. */
export const DIGEST_FORMAT = 1

/** Entries kept: one per version of the workflow a folder has seen lately. */
const keep = 64

/** What is saved for one key. */
interface Entry {
  readonly format: number
  readonly key: string
  readonly digests: Readonly<Record<string, string | null>>
  readonly packages: ReadonlyArray<PackageRead>
  /** SHA-256 of the fields above: a file damaged on disk is a miss, whatever the damage. */
  readonly check: string
}

const checkOf = (entry: Omit<Entry, "check">): string =>
  createHash("sha256").update(JSON.stringify([entry.format, entry.key, entry.digests, entry.packages])).digest("hex")

const require = createRequire(import.meta.url)

let versions: string | undefined
/** weft's, acorn's and Node's versions, and weft's folder: read once per process. */
const toolVersions = (): string => {
  if (versions !== undefined) return versions
  const versionIn = (file: string) => {
    try {
      return String((JSON.parse(readFileSync(file, "utf8")) as { version?: unknown }).version)
    } catch {
      return "unknown"
    }
  }
  const weft = weftVersion()
  let acorn = "unknown"
  try {
    acorn = versionIn(require.resolve("acorn/package.json"))
  } catch {
    // Not resolvable: "unknown" still names this setup; parsing will fail and prove nothing anyway.
  }
  // The analysis itself, as this installation has it: from the sources, the
  // files beside this one that compute the digests; built, the digest of all
  // sources the build was made from.
  const code = createHash("sha256")
  const here = import.meta.dirname
  const internal = path.join(here, "internal")
  let names: Array<string> = []
  try {
    if (fromSource) names = readdirSync(internal).filter((name) => name.endsWith(".ts") && !name.includes(".test.")).sort()
  } catch {
    // Unreadable: the version stands for the code.
  }
  if (!fromSource) code.update(buildId ?? "unknown build")
  const files = fromSource ? [path.join(here, "stepSources.ts"), ...names.map((name) => path.join(internal, name))] : []
  for (const file of files) {
    try {
      code.update(file).update("\0").update(readFileSync(file)).update("\0")
    } catch {
      code.update(file).update("\0missing\0")
    }
  }
  return (versions = [weft, weftRoot, acorn, process.versions.node, code.digest("hex")].join("\0"))
}

/** The name of the entry for these inputs: a hash of everything the digests are computed from but package versions. */
export const digestsKey = (workflow: Workflow<any>, entry: string, texts: ModuleTexts): string => {
  const hash = createHash("sha256").update(`weft step digests ${DIGEST_FORMAT}\0`).update(toolVersions()).update("\0").update(path.resolve(entry)).update("\0")
  for (const file of [...texts.keys()].sort()) hash.update(file).update("\0").update(texts.get(file)!).update("\0")
  hash.update("steps\0")
  for (const def of workflow.steps) {
    hash.update(def.id).update("\0").update(typeof def.run === "function" ? `function ${Function.prototype.toString.call(def.run)}` : "other").update("\0")
  }
  return hash.digest("hex")
}

/** The saved digests for `key`, when the entry is whole, is for `key`, and its packages are as they were. */
const readEntry = async (dir: string, key: string): Promise<Map<string, string | undefined> | undefined> => {
  let entry: Entry
  try {
    entry = JSON.parse(await fs.readFile(path.join(dir, `${key}.json`), "utf8")) as Entry
  } catch {
    return undefined
  }
  if (typeof entry !== "object" || entry === null || entry.format !== DIGEST_FORMAT || entry.key !== key) return undefined
  if (typeof entry.digests !== "object" || entry.digests === null || !Array.isArray(entry.packages)) return undefined
  if (entry.check !== checkOf(entry)) return undefined
  for (const read of entry.packages) {
    if (typeof read?.from !== "string" || typeof read.specifier !== "string") return undefined
    if ((installedVersion(read.from, read.specifier) ?? null) !== read.version) return undefined
  }
  const digests = new Map<string, string | undefined>()
  for (const [id, digest] of Object.entries(entry.digests)) {
    if (digest !== null && typeof digest !== "string") return undefined
    digests.set(id, digest ?? undefined)
  }
  return digests
}

/**
 * Written synchronously, right after the parse it saves: a short run's
 * process exits soon after, and an async write could be cut off. Atomic (a
 * temp file renamed), so a reader sees a whole entry or none.
 */
const writeEntry = (dir: string, entry: Entry): void => {
  mkdirSync(dir, { recursive: true })
  const tmp = path.join(dir, tempName())
  try {
    writeFileSync(tmp, JSON.stringify(entry))
    renameSync(tmp, path.join(dir, `${entry.key}.json`))
  } finally {
    rmSync(tmp, { force: true })
  }
  const names = readdirSync(dir).filter((name) => name.endsWith(".json"))
  if (names.length <= keep) return
  const mtime = (name: string) => statSync(path.join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0
  const aged = names.map((name) => ({ name, mtime: mtime(name) })).sort((a, b) => b.mtime - a.mtime)
  for (const { name } of aged.slice(keep)) rmSync(path.join(dir, name), { force: true })
}

/**
 * Each function step's source digest, as `makeStepDigest` computes it, read
 * from `dir` when saved there for exactly these inputs, else computed (the
 * parser loaded only then) and saved. `dir` undefined: computed, not saved.
 * Never fails: what cannot be proven is `undefined`, as `makeStepDigest` says.
 *
 * `saved` reads the entry at once; `digests` waits for it and computes on a
 * miss. A run starts the reading as it starts, and asks for the digests only
 * when a key needs them (`runCache.ts`).
 *
 * @example
 * const digest = await savedStepDigests(workflow, file, texts, stepDigestsDirIn(weftDir)).digests()
 * digest(workflow.steps[0])
 */
export const savedStepDigests = (
  workflow: Workflow<any>,
  entry: string,
  texts: ModuleTexts,
  dir: string | undefined
): { readonly saved: Promise<boolean>; readonly digests: () => Promise<StepDigest> } => {
  const key = digestsKey(workflow, entry, texts)
  const read = dir === undefined ? Promise.resolve(undefined) : readEntry(dir, key).catch(() => undefined)
  let digests: Promise<StepDigest> | undefined
  return {
    saved: read.then((found) => found !== undefined),
    digests: () => (digests ??= read.then((saved) => saved !== undefined ? (def: StepDef) => saved.get(def.id) : compute(workflow, entry, texts, dir, key)))
  }
}

const compute = async (workflow: Workflow<any>, entry: string, texts: ModuleTexts, dir: string | undefined, key: string): Promise<StepDigest> => {
  const { computeStepDigests } = await import("./stepSources.ts")
  const computed = computeStepDigests(workflow, entry, texts)
  if (dir !== undefined && computed.failed !== true) {
    const digests = Object.fromEntries(workflow.steps.map((def) => [def.id, computed.digest(def) ?? null]))
    try {
      const fields = { format: DIGEST_FORMAT, key, digests, packages: computed.packages }
      writeEntry(dir, { ...fields, check: checkOf(fields) })
    } catch {
      // Saving is a saving only: a folder that cannot be written costs the next run a parse, nothing more.
    }
  }
  return computed.digest
}
