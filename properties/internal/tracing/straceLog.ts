/**
 * Reads what `strace -f -y -z` wrote of a command's process tree into the
 * files each process read, wrote and removed, as absolute paths in the order
 * they happened. Pure: it sees only the log's text and the folder the
 * command started in.
 *
 * What counts: a file opened for reading (not a directory) or executed is
 * read; opened for writing, creating, truncating or appending, the target
 * of a rename, link or symlink, or truncated is written; unlinked, or the
 * source of a rename, is removed. Directories made or removed are not: two
 * steps both running `mkdir -p out` do not conflict, the files they put in
 * it do. Metadata probes (stat, access, readlink) are not reads: `mkdir -p`
 * and `$PATH` lookups probe everything on the way, which is not using it.
 * Only calls that succeeded are logged (`-z`).
 */
import * as path from "node:path"
import type { Access } from "./Accesses.ts"

export interface LoggedAccess {
  readonly access: Access
  readonly path: string
}

/** The calls traced: everything on files, process creation (to follow each process's folder), and fchdir. */
export const straceCalls = "%file,%process,fchdir"

const writeFlags = /\bO_(WRONLY|RDWR|CREAT|TRUNC|APPEND)\b/

export const parseStraceLog = (text: string, startCwd: string): Array<LoggedAccess> => {
  const out: Array<LoggedAccess> = []
  const cwds = new Map<string, string>()
  // With -z strace prints a call once it returned; an unfinished one (a
  // version that still splits them) is joined with its resumption.
  const pending = new Map<string, string>()
  for (const raw of text.split("\n")) {
    const line = /^(\d+)\s+(.*)$/.exec(raw)
    if (line === null) continue
    const pid = line[1]!
    let call = line[2]!
    if (call.endsWith("<unfinished ...>")) {
      pending.set(pid, call.slice(0, -"<unfinished ...>".length))
      continue
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(call)
    if (resumed !== null) {
      call = (pending.get(pid) ?? "") + resumed[1]
      pending.delete(pid)
    }
    const parsed = parseCall(call)
    if (parsed === undefined) continue
    const { name, args, result } = parsed
    const cwd = () => cwds.get(pid) ?? startCwd
    const at = (dirArg: string | undefined, file: string | undefined): string | undefined => {
      if (file === undefined) return undefined
      const base = dirArg === undefined ? cwd() : decodedPath(dirArg) ?? cwd()
      return path.resolve(base, file)
    }
    // Every AT_FDCWD</dir> says where this process is now.
    for (const arg of args) {
      if (arg.startsWith("AT_FDCWD<")) cwds.set(pid, decodedPath(arg) ?? cwd())
    }
    const add = (access: Access, file: string | undefined) => {
      if (file !== undefined) out.push({ access, path: file })
    }
    switch (name) {
      case "open":
      case "openat":
      case "openat2":
      case "creat": {
        const [dir, file, flags] = name === "open" || name === "creat" ? [undefined, args[0], args[1]] : [args[0], args[1], args[2]]
        if (flags?.includes("O_DIRECTORY")) break
        const target = decodedPath(result) ?? at(dir, str(file))
        add(name === "creat" || writeFlags.test(flags ?? "") ? "write" : "read", target)
        break
      }
      case "execve":
        add("read", at(undefined, str(args[0])))
        break
      case "execveat":
        add("read", at(args[0], str(args[1])))
        break
      case "rename":
        add("remove", at(undefined, str(args[0])))
        add("write", at(undefined, str(args[1])))
        break
      case "renameat":
      case "renameat2":
        add("remove", at(args[0], str(args[1])))
        add("write", at(args[2], str(args[3])))
        break
      case "unlink":
        add("remove", at(undefined, str(args[0])))
        break
      case "unlinkat":
        if (!args[2]?.includes("AT_REMOVEDIR")) add("remove", at(args[0], str(args[1])))
        break
      case "symlink":
      case "link":
        add("write", at(undefined, str(args[1])))
        break
      case "symlinkat":
        add("write", at(args[1], str(args[2])))
        break
      case "linkat":
        add("write", at(args[2], str(args[3])))
        break
      case "truncate":
        add("write", at(undefined, str(args[0])))
        break
      case "chdir": {
        const dir = at(undefined, str(args[0]))
        if (dir !== undefined) cwds.set(pid, dir)
        break
      }
      case "fchdir": {
        const dir = decodedPath(args[0])
        if (dir !== undefined) cwds.set(pid, dir)
        break
      }
      case "clone":
      case "clone3":
      case "fork":
      case "vfork":
        // The child starts where its parent is.
        if (/^\d+/.test(result)) cwds.set(/^\d+/.exec(result)![0], cwd())
        break
    }
  }
  return out
}

interface Call {
  readonly name: string
  readonly args: ReadonlyArray<string>
  /** What follows ` = `: `0`, `3</abs/path>`, `-1 ENOENT (...)`. */
  readonly result: string
}

const parseCall = (call: string): Call | undefined => {
  const open = call.indexOf("(")
  // The last `) = ` ends the arguments; strace pads short calls: `mkdir("d", 0777)          = 0`.
  let close = -1
  for (const match of call.matchAll(/\)\s+= /g)) close = match.index
  if (open <= 0 || close === -1 || close < open) return undefined
  const name = call.slice(0, open)
  if (!/^\w+$/.test(name)) return undefined
  const result = call.slice(call.indexOf("= ", close) + 2).trim()
  if (result.startsWith("-1") || result === "?") return undefined
  return { name, args: splitArgs(call.slice(open + 1, close)), result }
}

/** Splits strace's argument list at top-level commas: not inside a string, brackets, braces, or a `<decoded path>`. */
const splitArgs = (text: string): Array<string> => {
  const args: Array<string> = []
  let depth = 0
  let inString = false
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      if (c === "\\") i++
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') inString = true
    else if (c === "[" || c === "{" || c === "(" || (c === "<" && /[\dD]/.test(text[i - 1] ?? ""))) depth++
    else if ((c === "]" || c === "}" || c === ")" || c === ">") && depth > 0) depth--
    else if (c === "," && depth === 0) {
      args.push(text.slice(start, i).trim())
      start = i + 1
    }
  }
  if (text.slice(start).trim() !== "") args.push(text.slice(start).trim())
  return args
}

/** The path in `3</a/b>` or `AT_FDCWD</a/b>`, unescaped; undefined when there is none. */
const decodedPath = (text: string | undefined): string | undefined => {
  const match = text === undefined ? null : /^(?:\d+|AT_FDCWD)<(.*)>/.exec(text)
  return match === null ? undefined : unescape(match[1]!)
}

/** The contents of a quoted string argument, unescaped; undefined when it is not one (an address strace could not read). */
const str = (text: string | undefined): string | undefined => {
  if (text === undefined || !text.startsWith('"')) return undefined
  const end = text.lastIndexOf('"')
  return end <= 0 ? undefined : unescape(text.slice(1, end))
}

const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, "\\": 92, '"': 34 }

/** strace's C escapes (`\303\251`, `\x41`, `\n`) back to the bytes, read as UTF-8. */
const unescape = (text: string): string => {
  if (!text.includes("\\")) return text
  const bytes: Array<number> = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"))
      continue
    }
    const next = text[i + 1] ?? ""
    const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1))
    const hex = /^x([0-9a-fA-F]{2})/.exec(text.slice(i + 1))
    if (octal !== null) {
      bytes.push(parseInt(octal[0], 8))
      i += octal[0].length
    } else if (hex !== null) {
      bytes.push(parseInt(hex[1]!, 16))
      i += 3
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0))
      i += 1
    }
  }
  return Buffer.from(bytes).toString("utf8")
}
