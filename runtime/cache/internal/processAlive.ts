/**
 * Whether a process still runs, and what tells it apart from a later process
 * given the same pid: leftovers and leases (`lease.ts`) record their
 * process, and are taken over only when it is gone.
 */
import { readFileSync } from "node:fs"
import { hostname } from "node:os"

/** Whether process `pid` exists on this machine (a zombie counts as gone). */
export const processAlive = (pid: number): boolean => {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
  const stat = procStat(pid)
  return stat === undefined || stat[0] !== "Z"
}

/** `/proc/<pid>/stat` fields after the command name ([state, ppid, …]); `undefined` where there is no /proc. */
const procStat = (pid: number): Array<string> | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8")
    return text.slice(text.lastIndexOf(")") + 2).split(" ")
  } catch {
    return undefined
  }
}

let bootId: string | undefined
const boot = (): string => {
  if (bootId === undefined) {
    try {
      bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()
    } catch {
      bootId = ""
    }
  }
  return bootId
}

/**
 * What tells process `pid` apart from another given the same pid later: the
 * boot and its start time (in clock ticks since boot, field 22 of
 * `/proc/<pid>/stat`), or `""` where the system does not say (then only the
 * pid is checked).
 */
export const processStartOf = (pid: number): string => {
  const stat = procStat(pid)
  // Field 22 of the whole line is the 20th after the command name.
  const start = stat?.[19]
  return start === undefined ? "" : `${boot()}:${start}`
}

/** This machine, so a lease taken on another one (a shared network folder) is not judged by our pids. */
export const thisHost = (): string => hostname()

/**
 * Whether the process recorded as `pid` started at `start` on `host` is
 * certainly gone: not running, or its pid now names a process that started
 * at another time. A process on another machine cannot be checked: never gone.
 */
export const processGone = (holder: { readonly pid: number; readonly start: string; readonly host: string }): boolean => {
  if (holder.host !== thisHost()) return false
  if (!processAlive(holder.pid)) return true
  return holder.start !== "" && processStartOf(holder.pid) !== "" && processStartOf(holder.pid) !== holder.start
}
