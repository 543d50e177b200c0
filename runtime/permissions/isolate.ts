/**
 * `permissions.isolate`: what an isolated function step's Node process may
 * touch, as Node permission-model flags, and what a denial tells the user.
 *
 * Under `--permission` the module loader needs read access to every module it
 * loads, so the child may read: the workflow file and the local modules it
 * imports (the module graph the cache key hashes), weft's own folder (which
 * holds its `node_modules`), every `node_modules` folder on the resolution
 * path from the workflow's folder up, and the literal base of each
 * `permissions.read` glob. Not the rest of the workflow's folder: reading a
 * data file beside the workflow must be declared.
 */
import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import * as path from "node:path"
import { localModules } from "../cache/moduleGraph.ts"
import { weftRoot } from "../packageRoot.ts"
import { literalBase } from "./sandbox.ts"
import { defaultWeftDir } from "../weftDir.ts"

/** What an isolated step may do beyond loading its code. */
export interface IsolatePolicy {
  /** `permissions.read`: globs relative to the workflow folder. */
  readonly read: ReadonlyArray<string>
  /** `permissions.write`: globs relative to the workflow folder. */
  readonly write: ReadonlyArray<string>
  /** `permissions.run`: `true` starts any process and worker threads; a list, only those programs (no workers). */
  readonly run: boolean | ReadonlyArray<string>
  /** `permissions.net`: keep the network; without it the child runs without one where bubblewrap works (isolateNet.ts). */
  readonly net: boolean
}

const strings = (u: unknown): ReadonlyArray<string> => (Array.isArray(u) ? u.filter((s): s is string => typeof s === "string") : [])

/** The isolate policy of effective permissions, or `undefined` when `isolate` is not `true`. */
export const isolatePolicyOf = (permissions: unknown): IsolatePolicy | undefined => {
  if (typeof permissions !== "object" || permissions === null) return undefined
  const { isolate, read, write, run, net } = permissions as { isolate?: unknown; read?: unknown; write?: unknown; run?: unknown; net?: unknown }
  if (isolate !== true) return undefined
  return { read: strings(read), write: strings(write), run: run === true ? true : Array.isArray(run) ? strings(run) : false, net: net === true }
}

/** weft's install folder: an isolated step may read it (weft itself loads from there). */
export { weftRoot }

const nodeModulesUp = (dir: string): Array<string> => {
  const found: Array<string> = []
  for (let at = dir; ; at = path.dirname(at)) {
    const candidate = path.join(at, "node_modules")
    if (existsSync(candidate)) found.push(candidate)
    if (path.dirname(at) === at) return found
  }
}

/** The absolute folder a read or write glob of the step reaches. */
export const literalBaseOf = (glob: string, workflowDir: string): string => path.resolve(workflowDir, literalBase(glob))

/** The Node flags an isolated step's process runs with. */
export const isolateFlags = (policy: IsolatePolicy, file: string, workflowDir: string): Array<string> => {
  const declared = (globs: ReadonlyArray<string>) => globs.map((glob) => path.resolve(workflowDir, literalBase(glob)))
  const reads = new Set([...localModules(file), weftRoot, ...nodeModulesUp(path.dirname(file)), ...declared(policy.read)])
  return [
    "--permission",
    ...[...reads].map((p) => `--allow-fs-read=${p}`),
    ...declared(policy.write).map((p) => `--allow-fs-write=${p}`),
    // A list of programs: the child may start none itself; it asks weft, which checks and starts each (programHost.ts).
    ...(policy.run === true ? ["--allow-child-process", "--allow-worker"] : [])
  ]
}

/**
 * Where isolated children with these flags keep Node's compile cache (the
 * code V8 compiled and the types Node stripped), which more than halves the
 * time a child takes to load weft. Node uses the cache under `--permission`
 * only with read and write access to it, so each child may write this folder: one per
 * set of flags, so what a step could leave there reaches only children
 * allowed exactly what it is. In weft's folder (`.weft/` in the workflow's folder, or `$WEFT_DIR`), which
 * the user owns (a shared temporary folder could be seeded by another user)
 * and the watcher skips.
 */
export const compileCacheDir = (flags: ReadonlyArray<string>, workflowDir: string): string =>
  path.join(defaultWeftDir(workflowDir), "compile-cache", createHash("sha256").update(flags.join("\0")).digest("hex").slice(0, 16))

/** A denial the child reports: Node's `ERR_ACCESS_DENIED` fields. */
export interface AccessDenied {
  readonly permission: string
  readonly resource: string
}

/** The user's message for a denial: what the step may not do, and what to declare. */
export const deniedMessage = (step: string, denied: AccessDenied): string => {
  switch (denied.permission) {
    case "FileSystemRead":
      return `step "${step}" may not read ${denied.resource}: declare it in permissions.read`
    case "FileSystemWrite":
      return `step "${step}" may not write ${denied.resource}: declare it in permissions.write`
    case "ChildProcess":
      return `step "${step}" may not start a process (${denied.resource}): declare permissions.run: true, or list the programs it runs, like run: ["git"]`
    case "ChildProcessProgram":
      return denied.resource.startsWith("a shell command")
        ? `step "${step}" may not run ${denied.resource}: permissions.run lists programs, and a shell runs anything; start the program directly (execFile("git", [...])), or declare run: true`
        : `step "${step}" may not run ${denied.resource}: add it to permissions.run, like run: [${JSON.stringify(denied.resource)}]`
    case "ChildProcessWritable":
      return `step "${step}" may not run ${denied.resource}: the step may write it (permissions.write), and a program the step can change is never allowed`
    case "WorkerThreads":
      return `step "${step}" may not start a worker thread: declare permissions.run: true`
    case "Addons":
      return `step "${step}" may not load a native addon: isolated steps run without them; run this step without isolate: true`
    default:
      return `step "${step}" was denied ${denied.permission}${denied.resource ? ` on ${denied.resource}` : ""} by Node's permission model`
  }
}
