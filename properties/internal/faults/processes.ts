/**
 * The processes weft started from this process, found in `/proc` by the tree
 * id every command carries in its environment (`WEFT_PROCESS_TREE`,
 * `<weft pid>.<nonce>.<n>`): a daemon that left the step's group, or whose
 * parent has exited, still carries it. Linux only; elsewhere none are found,
 * and the checks that need them find nothing to blame.
 */
import { readFileSync } from "node:fs"
import { helperPids, processTable, treeVariable } from "../../../runtime/Process.ts"

export interface WeftProcess {
  readonly pid: number
  /** `pid:start time`: one process for good, even once its pid is reused. */
  readonly tag: string
  /** The tree id: one per command weft spawned. */
  readonly tree: string
  /** Whether it leads its process group: the command itself, not what it started. */
  readonly leader: boolean
}

const prefix = Buffer.from(`\0${treeVariable}=${process.pid}.`)

/** The tree id in `pid`'s environment if it is one of this process's, else undefined. */
const treeOf = (pid: number): string | undefined => {
  let environ: Buffer
  try {
    environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${pid}/environ`)])
  } catch {
    return undefined // gone, or not ours to read
  }
  const at = environ.indexOf(prefix)
  if (at < 0) return undefined
  const start = at + 1 + treeVariable.length + 1
  const end = environ.indexOf(0, start)
  return environ.subarray(start, end < 0 ? undefined : end).toString()
}

/** Every live process of this process's command trees, found by the id in its environment. */
export const weftProcesses = (): Array<WeftProcess> => {
  const found: Array<WeftProcess> = []
  for (const [pid, proc] of processTable()) {
    if (proc.zombie || pid === process.pid) continue
    const tree = treeOf(pid)
    if (tree !== undefined) found.push({ pid, tag: `${pid}:${proc.start}`, tree, leader: proc.pgrp === pid })
  }
  return found
}

interface Descendant {
  readonly pid: number
  readonly tag: string
  readonly pgrp: number
}

/**
 * This process's descendants, by parent pid: what an executor that spawns
 * without weft's tree id started (while this process lives, they stay its
 * descendants, whatever their group), and where a new command appears.
 * weft's own helpers (the spawner, the watchdog) and what they run for
 * themselves are passed by: below a helper, only the commands it started for
 * steps count, known by the tree id they carry. (A check that counted the
 * spawner, started mid-run at a run's second command, killed it as a leftover.)
 */
const descendants = (): Array<Descendant> => {
  const table = processTable()
  const helpers = helperPids()
  const children = new Map<number, Array<number>>()
  for (const [pid, proc] of table) {
    if (!proc.zombie) children.set(proc.ppid, [...(children.get(proc.ppid) ?? []), pid])
  }
  const found: Array<Descendant> = []
  const queue: Array<{ readonly pid: number; readonly underHelper: boolean }> = [{ pid: process.pid, underHelper: false }]
  while (queue.length > 0) {
    const parent = queue.pop()!
    for (const child of children.get(parent.pid) ?? []) {
      if (helpers.has(child)) {
        queue.push({ pid: child, underHelper: true })
        continue
      }
      if (parent.underHelper && treeOf(child) === undefined) continue
      const proc = table.get(child)!
      found.push({ pid: child, tag: `${child}:${proc.start}`, pgrp: proc.pgrp })
      queue.push({ pid: child, underHelper: false })
    }
  }
  return found
}

/**
 * A command weft started since `before` (tags) that leads its group, if one
 * runs now. Its environment is read at every look: one read before the
 * command's exec sees its launcher's, without the tree id.
 */
export const newCommand = (before: ReadonlySet<string>): WeftProcess | undefined => {
  for (const p of descendants()) {
    if (before.has(p.tag) || p.pgrp !== p.pid) continue
    const tree = treeOf(p.pid)
    if (tree !== undefined) return { pid: p.pid, tag: p.tag, tree, leader: true }
  }
  return undefined
}

/** What `leftoversSince` looks for: the trees' processes and this process's descendants. */
const runProcesses = (): Array<{ readonly pid: number; readonly tag: string }> => {
  const all = new Map<string, { readonly pid: number; readonly tag: string }>()
  for (const p of [...weftProcesses(), ...descendants()]) all.set(p.tag, p)
  return [...all.values()]
}

/** A process still running that a run started. */
export interface Leftover {
  readonly pid: number
  /** Its command line, as `/proc` tells it. */
  readonly command: string
}

const commandLine = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((arg) => arg !== "").join(" ")
  } catch {
    return "?"
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * What is still running of the trees started since `before` was taken (the
 * tags `weftProcesses` gave then), after giving processes already signalled
 * up to `graceMs` to go. What is found is then killed: a finding names it,
 * and it must not outlive the check.
 */
export const leftoversSince = async (before: ReadonlySet<string>, graceMs = 2000): Promise<Array<Leftover>> => {
  const started = performance.now()
  for (;;) {
    const left = runProcesses().filter((p) => !before.has(p.tag))
    if (left.length === 0) return []
    if (performance.now() - started >= graceMs) {
      const named = left.map((p) => ({ pid: p.pid, command: commandLine(p.pid) }))
      for (const p of left) {
        try {
          process.kill(p.pid, "SIGKILL")
        } catch {} // gone meanwhile
      }
      return named
    }
    await sleep(50)
  }
}

/** The tags of the processes `leftoversSince` looks for, now: what it compares with. */
export const processesNow = (): Set<string> => new Set(runProcesses().map((p) => p.tag))
