/**
 * A file store's per-key lease: a lock file `leases/<key>` naming its holder
 * (pid, the process's start identity, host, and a nonce), created
 * exclusively (`O_EXCL`). A reader that finds it empty or cut short (being
 * written) waits, unless it stays so for seconds: damage, taken over.
 *
 * A waiter polls, with backoff, until the file is gone. A file whose holder
 * is gone (`processGone`: not running, or its pid now names a process that
 * started at another time) is taken over: renamed away (only one waiter can
 * rename it), checked to be the very file judged stale, then removed. If the
 * rename caught a fresh lease instead (its holder took over a stale one in
 * between), it is linked back.
 *
 * Only processes on this machine can be checked: a lease from another host
 * (a store on a shared network folder) is waited for, never taken over.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { CacheLease, LeaseOptions } from "../CacheStore.ts"
import { ignoreMissing, isErrno, tempName } from "../../internal/atomic.ts"
import { processGone, processStartOf, thisHost } from "./processAlive.ts"

interface Holder {
  readonly pid: number
  readonly start: string
  readonly host: string
  readonly nonce: string
}

const firstPollMs = 5
const maxPollMs = 200

let self: Omit<Holder, "nonce"> | undefined
const me = () => (self ??= { pid: process.pid, start: processStartOf(process.pid), host: thisHost() })

const parse = (text: string): Holder | undefined => {
  try {
    const h = JSON.parse(text) as Partial<Holder>
    return typeof h.pid === "number" && typeof h.start === "string" && typeof h.host === "string" && typeof h.nonce === "string"
      ? (h as Holder)
      : undefined
  } catch {
    return undefined
  }
}

const describe = (h: Holder): string =>
  h.host === me().host ? (h.pid === process.pid ? "another run in this process" : `weft process ${h.pid}`) : `weft process ${h.pid} on ${h.host}`

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
const pause = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort)
      resolve()
    }, ms)
    signal?.addEventListener("abort", onAbort, { once: true })
  })

/** How long a lease file may stay unreadable (being written) before it counts as damaged. */
const writingMs = 5_000

/**
 * The holder recorded in `file`, `undefined` when there is no file. A file
 * that cannot be read as a holder is one being written (`"writing"`) when
 * young, else damage (`"damaged"`), which counts as held by no one alive.
 */
const readHolder = async (file: string): Promise<Holder | "writing" | "damaged" | undefined> => {
  try {
    const text = await fs.readFile(file, "utf8")
    const holder = parse(text)
    if (holder !== undefined) return holder
    const stat = await fs.stat(file)
    return Date.now() - stat.mtimeMs < writingMs ? "writing" : "damaged"
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined
    if (isErrno(error, "EISDIR")) return "damaged"
    throw error
  }
}

/** Tries once to create `file` naming `holder` (exclusively: it fails when the name exists); `false` when someone holds it. */
const create = async (file: string, holder: Holder): Promise<boolean> => {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(file, JSON.stringify(holder), { flag: "wx" })
      return true
    } catch (error) {
      if (isErrno(error, "EEXIST")) return false
      if (!isErrno(error, "ENOENT") || attempt > 0) throw error
      await fs.mkdir(path.dirname(file), { recursive: true })
    }
  }
}

/** Removes `file` if it still is the lease of `stale` (or still damaged); it may have been replaced since it was read. */
const takeOver = async (file: string, tmpDir: string, stale: Holder | "damaged"): Promise<void> => {
  const claimed = path.join(tmpDir, tempName())
  await fs.mkdir(tmpDir, { recursive: true })
  try {
    await fs.rename(file, claimed)
  } catch (error) {
    if (isErrno(error, "ENOENT")) return
    if (isErrno(error, "EISDIR", "ENOTDIR", "ENOTEMPTY") || stale === "damaged") {
      await fs.rm(file, { recursive: true, force: true })
      return
    }
    throw error
  }
  const found = await readHolder(claimed)
  const same = stale === "damaged" ? found === "damaged" : typeof found === "object" && found.nonce === stale.nonce
  if (!same) {
    // A live lease taken between our read and our rename: put it back (unless yet another holder came).
    await fs.link(claimed, file).catch(() => {})
  }
  await ignoreMissing(fs.unlink(claimed))
}

/** Removes lease file `file` when its holder is gone or it is damaged (for `prune`); whether it did. */
export const removeStaleLease = async (file: string, tmpDir: string): Promise<boolean> => {
  const current = await readHolder(file)
  if (current === undefined || current === "writing" || (current !== "damaged" && !processGone(current))) return false
  await takeOver(file, tmpDir, current)
  return true
}

/** Takes the lease on `key` in `dir` (`leases/` and the temp folder `tmpDir` beside it). */
export const takeFileLease = async (leasesDir: string, tmpDir: string, key: string, options: LeaseOptions = {}): Promise<CacheLease> => {
  const file = path.join(leasesDir, key)
  const holder: Holder = { ...me(), nonce: randomBytes(12).toString("hex") }
  let pollMs = firstPollMs
  let told = false
  for (;;) {
    options.signal?.throwIfAborted()
    if (await create(file, holder)) break
    const current = await readHolder(file)
    if (current === undefined) continue
    if (current === "damaged" || (current !== "writing" && processGone(current))) {
      await takeOver(file, tmpDir, current)
      continue
    }
    if (!told && current !== "writing") {
      told = true
      options.onWait?.(describe(current))
    }
    await pause(pollMs, options.signal)
    pollMs = Math.min(maxPollMs, Math.ceil(pollMs * 1.5))
  }
  if (options.signal?.aborted) {
    // Aborted as the lease came: the caller will not take it, so nobody would release it.
    await ignoreMissing(fs.unlink(file))
    throw options.signal.reason
  }
  let released = false
  return {
    release: async () => {
      if (released) return
      released = true
      const current = await readHolder(file).catch(() => undefined)
      // Taken over meanwhile (we were judged gone): the file is someone else's now.
      if (typeof current === "object" && current.nonce === holder.nonce) await ignoreMissing(fs.unlink(file))
    }
  }
}
