/**
 * `permissions.run: ["git", "pandoc"]` inside an isolated step's process.
 * Node's permission model allows child processes all or nothing, so the
 * child gets `--allow-child-process` and weft checks each start at
 * `node:child_process` itself: a program is allowed by its name (`git`) or
 * the exact path listed. Commands run through a shell (`exec`, `execSync`,
 * `shell: true`) are refused, since a shell runs whatever the string says;
 * `fork` starts Node, allowed as `node`. What an allowed program starts in
 * turn is its own business, as with any process.
 */
import { createRequire, syncBuiltinESMExports } from "node:module"
import * as path from "node:path"

/** Thrown for a start the list does not allow; the parent words the message (`deniedMessage`). */
const denied = (resource: string): Error =>
  Object.assign(new Error(`may not run ${resource}`), { code: "ERR_ACCESS_DENIED", permission: "ChildProcessProgram", resource })

const allows = (allowed: ReadonlyArray<string>, file: unknown): boolean =>
  typeof file === "string" && (allowed.includes(file) || allowed.includes(path.basename(file)))

type Fn = (...args: Array<unknown>) => unknown

/** Lets this process start only `allowed` programs through `node:child_process`, for imports made before and after. */
export const restrictPrograms = (allowed: ReadonlyArray<string>): void => {
  const childProcess = createRequire(import.meta.url)("node:child_process") as Record<string, Fn>
  const check = (file: unknown, options: unknown) => {
    if ((options as { shell?: unknown } | undefined)?.shell) throw denied(`a shell command (${String(file)})`)
    if (!allows(allowed, file)) throw denied(typeof file === "string" ? path.basename(file) : String(file))
  }
  for (const name of ["spawn", "spawnSync", "execFile", "execFileSync"]) {
    const original = childProcess[name]!
    childProcess[name] = function(this: unknown, file: unknown, args?: unknown, options?: unknown) {
      // `args` may be left out: then the options come second.
      check(file, Array.isArray(args) ? options : args)
      return original.apply(this, arguments as unknown as Array<unknown>)
    }
  }
  for (const name of ["exec", "execSync"]) {
    childProcess[name] = (command: unknown) => {
      throw denied(`a shell command (${String(command)})`)
    }
  }
  const fork = childProcess.fork!
  childProcess.fork = function(this: unknown) {
    if (!allowed.includes("node")) throw denied("node")
    return fork.apply(this, arguments as unknown as Array<unknown>)
  }
  // `import { execFileSync } from "node:child_process"` reads these bindings.
  syncBuiltinESMExports()
}
