/**
 * `permissions: { sandbox: true }`: a command step runs under bubblewrap
 * (`bwrap`). The whole file system is read-only, `/tmp` is private and empty,
 * only the literal base folders of `permissions.write` are writable, and the
 * network is off unless `net: true`.
 *
 * weft never runs a sandboxed step unsandboxed: where bwrap is missing or
 * cannot create namespaces (some containers), the step fails before anything
 * is spawned. `--allow-all` does not turn the sandbox off: it lifts the
 * environment checks for local debugging, while a sandbox is a promise about
 * what the command can damage.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync } from "node:fs"
import * as path from "node:path"
import type { Command } from "../../dsl/Command.ts"
import type { Permissions } from "../../dsl/Permissions.ts"
import type { StepDef } from "../../dsl/Step.ts"

/** What a sandboxed command may touch: from the step's effective `permissions`. */
export interface SandboxPolicy {
  /** `permissions.write`: globs relative to the workflow folder. */
  readonly write: ReadonlyArray<string>
  /** `permissions.net`: keep the network. */
  readonly net: boolean
}

/** The sandbox policy of effective permissions, or `undefined` when `sandbox` is not `true`. Reads `write` defensively. */
export const sandboxPolicyOf = (permissions: unknown): SandboxPolicy | undefined => {
  if (typeof permissions !== "object" || permissions === null) return undefined
  const { sandbox, write, net } = permissions as { sandbox?: unknown; write?: unknown; net?: unknown }
  if (sandbox !== true) return undefined
  return {
    write: Array.isArray(write) ? write.filter((w): w is string => typeof w === "string") : [],
    net: net === true
  }
}

/** The bwrap program: `WEFT_BWRAP` when set (a path to a bwrap, or a nonexistent one to force "unavailable"), else `bwrap` on PATH. */
export const bwrapProgram = (): string => process.env.WEFT_BWRAP || "bwrap"

let probed: Map<string, boolean> = new Map()
let override: boolean | undefined

/**
 * Whether bwrap runs here: one `bwrap --ro-bind / / true` per program, cached
 * for the life of the process (a spawn costs milliseconds; steps are many).
 */
export const bwrapWorks = (): boolean => {
  if (override !== undefined) return override
  const program = bwrapProgram()
  let works = probed.get(program)
  if (works === undefined) {
    const result = spawnSync(program, ["--ro-bind", "/", "/", "true"], { stdio: "ignore", timeout: 10_000 })
    works = result.error === undefined && result.status === 0
    probed.set(program, works)
  }
  return works
}

/** For tests: force the probe's answer (`undefined` restores the real probe and forgets cached answers). */
export const setBwrapWorks = (works: boolean | undefined): void => {
  override = works
  probed = new Map()
}

/** A step asks for `sandbox: true` where bwrap does not work: it fails before anything runs. */
export class SandboxUnavailableError extends Error {
  readonly _tag = "SandboxUnavailableError"
  readonly step: string
  constructor(step: string) {
    super(
      `step "${step}" asks for sandbox: true, but bubblewrap (bwrap) is not available here: ` +
        `install the bubblewrap package, or remove sandbox: true; weft never runs a sandboxed step unsandboxed`
    )
    this.step = step
    this.name = "SandboxUnavailableError"
  }
}

/** The folder a write glob can touch: its path up to the first segment holding a glob character. */
export const literalBase = (glob: string): string => {
  const segments = glob.split("/")
  const index = segments.findIndex((segment) => /[*?[\]{}]|[!@+]\(/.test(segment))
  const literal = index === -1 ? segments : segments.slice(0, index)
  return literal.join("/") || "."
}

const isUnder = (dir: string, root: string): boolean => dir === root || dir.startsWith(root + "/")

/**
 * `command` wrapped in bwrap under `policy`. Write folders are created when
 * missing (bwrap binds only what exists, and an output folder usually does
 * not exist before the first build). bwrap stays in the command's process
 * group (no `--new-session`: weft already spawns it in a new session without
 * a terminal), so tearing the group down takes the sandbox along;
 * `--die-with-parent` covers a bwrap whose parent dies first.
 */
export const sandboxed = (command: Command, policy: SandboxPolicy, workflowDir: string): Command => {
  const cwd = path.resolve(workflowDir, command.cwd ?? ".")
  const binds: Array<string> = []
  // A negated glob ("!dist/cache/**") takes away; only the others grant a folder.
  for (const glob of policy.write.filter((glob) => !glob.startsWith("!"))) {
    const folder = path.resolve(workflowDir, literalBase(glob))
    mkdirSync(folder, { recursive: true })
    binds.push("--bind", folder, folder)
  }
  const argv = [
    bwrapProgram(),
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",
    // A workflow under /tmp stays visible (read-only) through the private /tmp.
    ...(isUnder(workflowDir, "/tmp") ? ["--ro-bind", workflowDir, workflowDir] : []),
    ...binds,
    ...(policy.net ? [] : ["--unshare-net"]),
    "--unshare-pid",
    "--die-with-parent",
    "--chdir", cwd,
    "--",
    ...command.argv
  ]
  return { ...command, argv }
}

/**
 * Said once, before the first step, when the workflow has sandboxed steps and
 * bwrap does not work here: each of them will then fail with
 * `SandboxUnavailableError` rather than run unsandboxed. `undefined` when
 * there is nothing to say (no sandboxed step, or bwrap works).
 */
export const sandboxUnavailable = (plan: { readonly steps: ReadonlyArray<StepDef>; readonly workflow: { readonly options: { readonly permissions?: Permissions | undefined } } }): string | undefined => {
  const fallback = plan.workflow.options.permissions
  // A loop, not `flatMap`: that made an array for every step of the plan.
  const ids: Array<string> = []
  for (let i = 0; i < plan.steps.length; i++) if ((plan.steps[i]!.permissions ?? fallback)?.sandbox === true) ids.push(plan.steps[i]!.id)
  if (ids.length === 0 || bwrapWorks()) return undefined
  const named = ids.length <= 3 ? ids.map((id) => `"${id}"`).join(", ") : `${ids.slice(0, 3).map((id) => `"${id}"`).join(", ")} and ${ids.length - 3} more`
  return `bubblewrap (bwrap) is not available here, so ${ids.length === 1 ? "the sandboxed step" : `the ${ids.length} sandboxed steps`} (${named}) will be refused, not run unsandboxed: install the bubblewrap package (Debian/Ubuntu: apt install bubblewrap)`
}
