/**
 * `permissions.run: ["git"]` for an isolated step: which program a start
 * request really names, and whether the list allows it. weft decides in its
 * own process, on the file the kernel would execute (found on PATH, then every
 * symbolic link resolved), never on a name the step chose: an allowed name
 * allows exactly the program that name finds on PATH, a listed path exactly
 * that file. A program inside a folder the step may write is refused whatever
 * its name: the step could have written it, or could swap it before it starts.
 */
import { accessSync, constants, realpathSync, statSync } from "node:fs"
import * as path from "node:path"

/** What decides a start: the list, where to look, and what the step may write. */
export interface ProgramRules {
  /** `permissions.run` as a list: program names and absolute paths. */
  readonly allowed: ReadonlyArray<string>
  /** The folder a relative program path or PATH entry is resolved against. */
  readonly cwd: string
  /** The PATH the program is looked up on: the one it would start with. */
  readonly pathEnv: string | undefined
  /** The PATH a listed name is looked up on: the step's own, whatever PATH it asks to start a program with. */
  readonly listPathEnv: string | undefined
  /** Absolute folders the step may write: nothing under them runs. */
  readonly writable: ReadonlyArray<string>
}

/** The answer: the real file to execute, or why not (the fields of a denial). */
export type ProgramCheck =
  | { readonly _tag: "allowed"; readonly path: string }
  | { readonly _tag: "denied"; readonly permission: "ChildProcessProgram" | "ChildProcessWritable"; readonly resource: string }
  | { readonly _tag: "missing"; readonly file: string }

const isExecutableFile = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

/** The file `file` names, as `execvp` finds it: a path with a slash as it is, a name on PATH; `undefined` when there is none. */
export const locate = (file: string, cwd: string, pathEnv: string | undefined): string | undefined => {
  if (file.includes("/")) {
    const at = path.resolve(cwd, file)
    return isExecutableFile(at) ? at : undefined
  }
  for (const dir of (pathEnv ?? "").split(":")) {
    const at = path.resolve(cwd, dir || ".", file)
    if (isExecutableFile(at)) return at
  }
  return undefined
}

const real = (file: string | undefined): string | undefined => {
  if (file === undefined) return undefined
  try {
    return realpathSync(file)
  } catch {
    return undefined
  }
}

const isUnder = (file: string, dir: string): boolean => file === dir || file.startsWith(dir.endsWith("/") ? dir : dir + "/")

/** Whether `rules` let the step start `file`, and which file that is. */
export const checkProgram = (file: string, rules: ProgramRules): ProgramCheck => {
  const found = locate(file, rules.cwd, rules.pathEnv)
  const target = real(found)
  if (target === undefined) {
    return rules.allowed.includes(file) || rules.allowed.includes(path.basename(file))
      ? { _tag: "missing", file }
      : { _tag: "denied", permission: "ChildProcessProgram", resource: file }
  }
  // Both the path it was found at and the file it resolves to: a link the step wrote is as much the step's as a file.
  const writable = rules.writable.map((dir) => real(dir) ?? dir)
  if ([found!, target].some((at) => writable.some((dir) => isUnder(at, dir)))) {
    return { _tag: "denied", permission: "ChildProcessWritable", resource: found! }
  }
  const allowed = rules.allowed.some((entry) => real(locate(entry, rules.cwd, rules.listPathEnv)) === target)
  return allowed ? { _tag: "allowed", path: target } : { _tag: "denied", permission: "ChildProcessProgram", resource: file }
}
