/**
 * A step's cache key: SHA-256 over everything its result depends on that weft
 * can see. What goes in, exactly:
 *
 * - weft's cache format version, the platform (`process.platform`,
 *   `process.arch`) and Node's major version;
 * - the workflow's name and the step's id;
 * - the step's definition: a command's argv, cwd and env; a function's source
 *   text, together with a digest of the source it depends on: the step's own
 *   (`["step", digest]`, `watch/stepSources.ts`) when the run has the texts
 *   the workflow was loaded from and that digest is provable, else one of the
 *   workflow file and every local module it imports (`["modules", digest]`),
 *   so editing a helper it calls changes the key; a sub-workflow's steps,
 *   recursively (their functions with the module digest);
 * - `cache.key`: a string, or what the function returns for the inputs;
 * - the canonical encoding of the outputs it `needs` (so a dependency that
 *   reran and produced the same output leaves the key unchanged: early cutoff);
 * - the contents of the files matched by `cache.inputs`;
 * - the values of the variables named in `cache.env` and `permissions.env`
 *   (hashed, never stored: a secret enters only as part of this hash);
 * - the `cache.outputs` globs themselves.
 *
 * What does not: values a function captures from its closure, environment
 * variables not named in `cache.env`, files not matched by `cache.inputs`,
 * the time, the network. Put what matters of those into `cache.key`.
 */
import { hash } from "node:crypto"
import { isCommand } from "../../dsl/Command.ts"
import type { StepDef } from "../../dsl/Step.ts"
import { isWorkflow, type Workflow } from "../../dsl/Workflow.ts"
import { canonicalHash } from "./canonical.ts"

/** Bumped whenever what is stored, or how keys are made, changes: every old entry becomes a miss. */
export const CACHE_FORMAT_VERSION = 1

/** What the key of one step is made from. */
export interface KeyParts {
  readonly workflow: string
  readonly step: StepDef
  /** Digest of the workflow file and its local imports (`moduleGraphDigest`), when the file is known. */
  readonly modules: string | undefined
  /**
   * Digest of exactly the source a function step depends on (`makeStepDigest`),
   * when provable: it stands in for `modules`, so an edit elsewhere in the
   * file leaves the key as it was.
   */
  readonly source?: string | undefined
  readonly inputs: Readonly<Record<string, unknown>>
  /** The `cache.key` option as resolved for these inputs. */
  readonly userKey: unknown
  /** Digest of the files matched by `cache.inputs`. */
  readonly files: string
  /** `cache.env` names. */
  readonly env: ReadonlyArray<string>
  readonly outputs: ReadonlyArray<string>
  /** Where environment values are read (default: `process.env`). */
  readonly environment?: NodeJS.ProcessEnv
}

/**
 * What a runner is, as text that changes whenever its behaviour can. A
 * function's code is named by its step's own digest (`source`) or the module
 * digest, tagged so that the one can never be taken for the other.
 */
export const definitionOf = (run: unknown, modules: string | undefined, source?: string | undefined): unknown => {
  if (isCommand(run)) return ["command", run.argv, run.cwd ?? null, run.env ?? null]
  if (isWorkflow(run)) return ["workflow", (run as Workflow<any>).name, (run as Workflow<any>).steps.map(stepDefinition(modules))]
  if (typeof run === "function") {
    return ["function", run.toString(), source !== undefined ? ["step", source] : modules !== undefined ? ["modules", modules] : null]
  }
  return ["unknown", String(run)]
}

const stepDefinition = (modules: string | undefined) => (def: StepDef) =>
  [def.id, def.needs, def.after, def.optional, definitionOf(def.run, modules)]

const nodeMajor = process.versions.node.split(".")[0]

/** `canonicalHash` of `{}` and of `[]`, computed once: most steps need nothing and name no variables. */
let emptyHashes: { readonly object: string; readonly array: string } | undefined
const hashOf = (value: object): string => {
  const empty = Array.isArray(value) ? value.length === 0 : Object.getPrototypeOf(value) === Object.prototype && isEmpty(value)
  if (!empty) return canonicalHash(value)
  emptyHashes ??= { object: canonicalHash({}), array: canonicalHash([]) }
  return Array.isArray(value) ? emptyHashes.array : emptyHashes.object
}
const isEmpty = (value: object): boolean => {
  for (const _ in value) return false
  return true
}

/** The step's key, hex. */
export const stepKey = (parts: KeyParts): string => {
  const environment = parts.environment ?? process.env
  const env = parts.env.length === 0 ? [] : [...new Set(parts.env)].sort().map((name) => [name, environment[name] ?? null])
  return hash("sha256", canonicalHash([
    "weft-step",
    CACHE_FORMAT_VERSION,
    process.platform,
    process.arch,
    nodeMajor,
    parts.workflow,
    parts.step.id,
    definitionOf(parts.step.run, parts.modules, parts.source),
    parts.userKey ?? null,
    hashOf(parts.inputs),
    parts.files,
    hashOf(env),
    [...parts.outputs].sort()
  ]), "hex")
}
