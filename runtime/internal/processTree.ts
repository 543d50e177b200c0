/**
 * Everything a command step started, wherever it went. A signal to the
 * step's process group misses what left the group: `setsid`, a daemon that
 * double-forks, anything that starts a session of its own. So teardown
 * looks in `/proc` (Linux) for the step's processes before it signals them:
 *
 * - the members of the step's process group;
 * - every process whose environment carries the step's tree id
 *   (`WEFT_PROCESS_TREE`, set when weft spawns the step): a daemon whose
 *   parent has exited is reparented away, and its parent chain no longer
 *   leads to the step, but its environment still says where it came from
 *   (Jenkins finds a build's processes the same way);
 * - every descendant of those, by parent pid, whatever its session or group.
 *
 * What was found is remembered (pid and start time, so a reused pid is never
 * signalled) and found again at every later look, since a process killed
 * first reparents its children and loses their chain. A process that both
 * leaves the group and clears its environment, and whose parent has already
 * exited, is out of reach: only a PID namespace would hold it (see
 * `Process.ts`).
 *
 * On other systems the tree is the process group alone.
 */
import { randomBytes } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"

/** The environment variable that carries a step's tree id into every process it starts. */
export const treeVariable = "WEFT_PROCESS_TREE"

// Drawn at the first spawn, not when this module loads: the start-up snapshot
// (cli/snapshot/) loads it in the process that makes the snapshot.
let nonce: string | undefined
let spawned = 0

/** A tree id unique to this weft process and spawn: `<weft pid>.<random>.<n>`. */
export const newTreeId = (): string => `${process.pid}.${(nonce ??= randomBytes(4).toString("hex"))}.${++spawned}`

/** One process as `/proc/<pid>/stat` tells it. */
export interface Proc {
  readonly ppid: number
  readonly pgrp: number
  /** Start time in clock ticks since boot: with the pid, it names one process for good. */
  readonly start: string
  readonly zombie: boolean
}

const isLinux = process.platform === "linux"

/** Every process now, by pid (empty when `/proc` cannot be read, or not Linux). */
export const processTable = (): Map<number, Proc> => {
  const table = new Map<number, Proc>()
  if (!isLinux) return table
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return table
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8")
    } catch {
      continue // exited while we looked
    }
    // "pid (comm) state ppid pgrp session … starttime …": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    table.set(Number(entry), { ppid: Number(fields[1]), pgrp: Number(fields[2]), start: fields[19] ?? "", zombie: fields[0] === "Z" })
  }
  return table
}

/** Whether process `pid`'s environment (as it was at its last exec) holds `entry`; `false` when it cannot be read. */
const carries = (pid: number, entry: Buffer): boolean => {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`)
    return environ.subarray(0, entry.length - 1).equals(entry.subarray(1)) || environ.includes(entry)
  } catch {
    return false // gone, or not ours to read
  }
}

/** One step's processes: see the module comment. */
export class ProcessTree {
  readonly #leader: number
  /** `\0NAME=id\0`, as it appears inside `/proc/<pid>/environ`; `undefined`: no id (found by group and parents only). */
  readonly #entry: Buffer | undefined
  /** Found so far: pid → start time. */
  readonly #known = new Map<number, string>()
  /** Processes whose environment was read and did not carry the id: `pid:start`, so each is read once. */
  readonly #without = new Set<string>()

  constructor(leader: number, id: string | undefined) {
    this.#leader = leader
    this.#entry = id === undefined ? undefined : Buffer.from(`\0${treeVariable}=${id}\0`)
  }

  /**
   * Looks in `/proc` for the tree's processes; returns the live ones.
   * `table`: one taken just now, to share between trees.
   */
  scan(table: Map<number, Proc> = processTable()): Array<number> {
    const self = process.pid
    const found = new Set<number>()
    for (const [pid, proc] of table) {
      if (pid === self || proc.zombie) continue
      if (this.#known.get(pid) === proc.start || proc.pgrp === this.#leader) {
        found.add(pid)
        continue
      }
      if (this.#entry === undefined) continue
      const tag = `${pid}:${proc.start}`
      if (this.#without.has(tag)) continue
      if (carries(pid, this.#entry)) found.add(pid)
      else this.#without.add(tag)
    }
    // Descendants, whatever their session or group.
    const children = new Map<number, Array<number>>()
    for (const [pid, proc] of table) {
      if (proc.zombie || pid === self) continue
      const siblings = children.get(proc.ppid)
      if (siblings === undefined) children.set(proc.ppid, [pid])
      else siblings.push(pid)
    }
    const queue = [...found]
    while (queue.length > 0) {
      for (const child of children.get(queue.pop()!) ?? []) {
        if (!found.has(child)) {
          found.add(child)
          queue.push(child)
        }
      }
    }
    for (const pid of found) this.#known.set(pid, table.get(pid)!.start)
    return [...found]
  }

  /**
   * Sends `signal` to the group and to every live process of the tree, each
   * by pid: what is not in the group is reached too. Looks first, so what a
   * killed process leaves behind is already known.
   */
  signal(signal: NodeJS.Signals, table?: Map<number, Proc>): void {
    const live = this.scan(table)
    try {
      process.kill(-this.#leader, signal)
    } catch {} // the group is gone, or none of it is ours to signal
    for (const pid of live) {
      try {
        process.kill(pid, signal)
      } catch {} // gone meanwhile, or not ours to signal
    }
  }

  /** Whether any process of the tree still runs (zombies do not count). */
  alive(): boolean {
    if (!isLinux) {
      try {
        process.kill(-this.#leader, 0)
        return true
      } catch (error) {
        return (error as NodeJS.ErrnoException).code !== "ESRCH"
      }
    }
    return this.scan().length > 0
  }
}
