/**
 * Starts command steps through one small long-lived helper process instead
 * of forking weft. Node's `spawn` forks the calling process on its main
 * thread, and a fork costs in proportion to the parent's memory (its page
 * tables): 2 ms for a bare `node`, 3-4 ms at 130-180 MB, 5.6 ms for weft
 * mid-run, measured on the lead's VM, with weft's own work for the step
 * waiting meanwhile. The helper (`spawnerScript.ts`, 7 MB) forks in a
 * fraction of that, on another core.
 *
 * Every guarantee of a direct spawn is kept: each job leads its own session
 * and process group (`setsid`), so weft tears its tree down as before
 * (`ProcessTree`, `track`, the watchdog); it gets exactly the environment
 * weft computed, argv as a list, stdin from /dev/null; its stdout and stderr
 * go to a pair of FIFOs that weft reads as streams, whose end of file is
 * exactly a pipe's (every process holding the output closed it); its exit
 * status comes back exact (code, or signal). A FIFO pair is reused only
 * after weft read end of file on both, so no output can cross to the next
 * job.
 *
 * The helper starts at the second command a weft process runs (a one-command
 * run never pays for it), in its own session like the watchdog (a terminal's
 * Ctrl-C is for weft), and exits when its stdin closes, that is when weft
 * exits however it exits. It is not used, and Node's `spawn` is, when
 * `WEFT_SPAWNER=0`, off Linux, without `perl`, or once it failed.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync, constants as fsConstants } from "node:fs"
import { Socket } from "node:net"
import { constants as osConstants, tmpdir } from "node:os"
import * as path from "node:path"
import { getSystemErrorName } from "node:util"
import type { LaunchHandlers, LaunchRequest } from "./launch.ts"
import { spawnerScript } from "./spawnerScript.ts"
import { guard, release, watchdogScript } from "./watchdog.ts"

/** `auto`: from the second command on; `always`: from the first; `never`: Node's `spawn` only. */
export type SpawnerMode = "auto" | "always" | "never"

const fromEnvironment = (value: string | undefined): SpawnerMode => (value === "0" ? "never" : value === "1" ? "always" : "auto")
/** Read at the first command, not at load: a start-up snapshot may have loaded this module. */
let mode: SpawnerMode | undefined

/** Chooses how commands start from now on (tests run the process suite both ways). */
export const setSpawnerMode = (next: SpawnerMode): void => {
  mode = next
}

/** Slots (FIFO pairs) made at a time. */
const slotBatch = 8
let perl: string | null | undefined
const findPerl = (): string | null => ["/usr/bin/perl", "/bin/perl"].find((file) => process.platform === "linux" && existsSync(file)) ?? null

interface Job {
  readonly id: string
  readonly slot: number
  readonly fds: readonly [number, number]
  readonly handlers: LaunchHandlers
  readonly treeId: string | undefined
  started: boolean
  pid?: number
  /** Tells whoever ends the job's tree should weft die that weft saw it close: the helper, or the watchdog once the helper is gone. */
  release: () => void
  /** Streams not yet closed, and which of them reached end of file. */
  open: number
  ended: number
  exit?: readonly [number | null, NodeJS.Signals | null] | "lost"
  failure?: NodeJS.ErrnoException
}

const signalNames = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]))

/** `ENOENT` for 2, as Node's spawn names what it could not do; `E<n>` for a number it does not know. */
const errnoName = (errno: number): string => {
  const name = getSystemErrorName(-errno)
  // For a number libuv does not know it says "Unknown system error -n".
  return /^E[A-Z0-9]+$/.test(name) ? name : `E${errno}`
}

const failure = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code })

class Spawner {
  readonly #child: ChildProcess
  readonly #dir: string
  readonly #jobs = new Map<string, Job>()
  readonly #free: Array<number> = []
  /** Launches waiting for a slot: each either goes on, or falls back to Node's `spawn`. */
  readonly #waiting: Array<{ readonly go: () => void; readonly fallback: () => void }> = []
  #slots = 0
  #growing = true
  #next = 0
  #referenced = false
  #lines = ""
  /** `r <id>` lines not sent yet: they go with the next write, or shortly after. */
  #releases = ""
  #flush: ReturnType<typeof setTimeout> | undefined
  failed = false

  constructor(program: string) {
    this.#dir = mkdtempSync(path.join(tmpdir(), "weft-spawner-"))
    this.#child = spawn(program, ["-e", spawnerScript, this.#dir, String(slotBatch), watchdogScript], {
      stdio: ["pipe", "pipe", "ignore"],
      detached: true
    })
    // It must never keep weft alive: only jobs in flight do (see #reference).
    this.#child.unref()
    ;(this.#child.stdin as unknown as Socket).unref()
    ;(this.#child.stdout as Socket).unref()
    this.#child.on("error", () => this.#fail())
    this.#child.stdin!.on("error", () => this.#fail())
    this.#child.stdout!.setEncoding("latin1")
    this.#child.stdout!.on("data", (text: string) => this.#read(text))
    this.#child.stdout!.on("close", () => this.#fail())
  }

  /** The helper's pid, for tests. */
  get pid(): number | undefined {
    return this.#child.pid
  }

  /** The folder of its FIFOs, for tests. */
  get dir(): string {
    return this.#dir
  }

  /** `fields`: the job's argc, argv and environment, NUL-separated (`jobFields`). */
  launch(request: LaunchRequest, fields: string, handlers: LaunchHandlers, fallback: () => void): void {
    if (this.failed) return fallback()
    const slot = this.#free.pop()
    if (slot === undefined) {
      this.#waiting.push({ go: () => this.launch(request, fields, handlers, fallback), fallback })
      this.#reference()
      if (!this.#growing) {
        this.#growing = true
        this.#send(`m ${Math.max(slotBatch, this.#slots >> 1)}\n`)
      }
      return
    }
    // Opened for reading before the job is sent, so the helper's opens for writing never block.
    const flags = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK
    let fds: readonly [number, number]
    try {
      const out = openSync(path.join(this.#dir, `${slot}o`), flags)
      try {
        fds = [out, openSync(path.join(this.#dir, `${slot}e`), flags)]
      } catch (error) {
        closeSync(out)
        throw error
      }
    } catch {
      this.#fail()
      return fallback()
    }
    const id = String(++this.#next)
    this.#jobs.set(id, { id, slot, fds, handlers, treeId: request.treeId, started: false, release: () => this.release(id), open: 2, ended: 0 })
    this.#reference()
    const record = `${id}\0${request.cwd}\0${slot}\0${request.treeId ?? ""}\0${fields}`
    this.#send(`j ${Buffer.byteLength(record)}\n${record}`)
  }

  #send(text: string): void {
    this.#child.stdin!.write(this.#releases + text)
    this.#releases = ""
  }

  /**
   * The job closed: it is no longer the helper's to end if weft dies. Sent
   * with the next job (one write, one wake-up of the helper, per job), or
   * after 20 ms, or at weft's exit, whichever comes first.
   */
  release(id: string): void {
    if (this.failed) return
    this.#releases += `r ${id}\n`
    this.#flush ??= setTimeout(() => {
      this.#flush = undefined
      if (this.#releases !== "" && !this.failed) this.#send("")
    }, 20).unref()
  }

  /** At weft's exit: what is still to release, written at once (an exit waits for no asynchronous write). */
  flushNow(): void {
    const fd = (this.#child.stdin as unknown as { _handle?: { fd?: number } })._handle?.fd
    if (this.#releases === "" || this.failed || fd === undefined || fd < 0 || this.#child.stdin!.writableLength > 0) return
    try {
      writeSync(fd, this.#releases)
      this.#releases = ""
    } catch {} // the helper is gone, or its pipe is full: it ends those trees, as if weft had died
  }

  /** Keeps weft alive while a job is in flight, and only then. */
  #reference(): void {
    const busy = this.#jobs.size > 0 || this.#waiting.length > 0
    if (busy === this.#referenced) return
    this.#referenced = busy
    const stdout = this.#child.stdout as Socket
    if (busy) stdout.ref()
    else stdout.unref()
  }

  #read(text: string): void {
    this.#lines += text
    let end: number
    while ((end = this.#lines.indexOf("\n")) >= 0) {
      const [op, a, b, c] = this.#lines.slice(0, end).split(" ")
      this.#lines = this.#lines.slice(end + 1)
      if (op === "m") this.#grown(Number(a))
      else {
        const job = this.#jobs.get(a!)
        if (job === undefined) continue
        if (op === "s") this.#started(job, Number(b))
        else if (op === "x") this.#refused(job, b!, Number(c))
        else if (op === "e") {
          job.exit = b === "-" ? [null, signalNames.get(Number(c)) ?? (`SIG${c}` as NodeJS.Signals)] : [Number(b), null]
          this.#settle(job)
        }
      }
    }
  }

  #grown(slots: number): void {
    for (let slot = this.#slots; slot < slots; slot++) this.#free.push(slot)
    this.#slots = slots
    this.#growing = false
    const waiting = this.#waiting.splice(0)
    for (const { go } of waiting) go()
    this.#reference()
  }

  #started(job: Job, pid: number): void {
    job.started = true
    const [stdout, stderr] = job.fds.map((fd) => {
      const stream = new Socket({ fd, readable: true, writable: false })
      stream.on("end", () => job.ended++)
      stream.on("close", () => {
        job.open--
        this.#settle(job)
      })
      return stream
    })
    job.pid = pid
    job.handlers.start(pid, stdout!, stderr!, () => job.release())
  }

  #refused(job: Job, what: string, errno: number): void {
    const code = errnoName(errno)
    job.failure = failure(code, what === "cwd" ? `chdir ${code}` : `${what} ${code}`)
    // Nothing was forked (`open`, `fork`): no `s` nor `e` follows.
    if (what === "open" || what === "fork") {
      job.exit = "lost"
      job.fds.forEach((fd) => closeSync(fd))
      job.open = 0
      this.#settle(job, true)
    }
  }

  /** Once it exited and both its streams closed: reports, and frees its slot if both reached end of file. */
  #settle(job: Job, retire = false): void {
    if (job.exit === undefined || job.open > 0 || !this.#jobs.has(job.id)) return
    this.#jobs.delete(job.id)
    // A stream destroyed before its end (weft gave up on an unkillable
    // writer) may still have a writer: that slot is never used again.
    if (!retire && job.ended === 2) this.#free.push(job.slot)
    this.#reference()
    const next = this.#waiting.shift()
    if (next !== undefined) next.go()
    if (job.failure !== undefined) job.handlers.error(job.failure)
    else if (job.exit === "lost") job.handlers.error(failure("ESPAWNER", "weft's process spawner exited while it ran (was it killed?), so its exit status is unknown"))
    else job.handlers.close(job.exit[0], job.exit[1])
  }

  /** The helper is gone or unusable: jobs waiting go through Node's `spawn`, jobs in flight end as errors. */
  #fail(): void {
    if (this.failed) return
    this.failed = true
    // The helper removes its folder when it ends normally; a helper that
    // never started, or was killed, cannot. (Open FIFOs outlive their names.)
    rmSync(this.#dir, { recursive: true, force: true })
    for (const { fallback } of this.#waiting.splice(0)) fallback()
    for (const job of this.#jobs.values()) {
      job.exit ??= "lost"
      // Still running, perhaps: the watchdog takes over ending it should weft die.
      const pid = job.pid
      if (pid !== undefined) {
        guard(pid, job.treeId)
        job.release = () => release(pid)
      }
      if (!job.started) {
        job.fds.forEach((fd) => closeSync(fd))
        job.open = 0
      }
      this.#settle(job, true)
    }
    this.#reference()
  }
}

let spawner: Spawner | undefined
let commands = 0

/** Whether `text` can travel in the helper's NUL-separated records as it is. */
const plain = (text: string): boolean => !text.includes("\0")

/**
 * The job's argc, argv and `NAME=value` environment, NUL-separated, in one
 * pass that also checks them; `undefined` for a request Node's `spawn` is
 * better placed to refuse (NUL bytes, odd names).
 */
const jobFields = (request: LaunchRequest): string | undefined => {
  if (!plain(request.cwd)) return undefined
  let fields = String(request.argv.length)
  for (const arg of request.argv) {
    if (!plain(arg)) return undefined
    fields += `\0${arg}`
  }
  for (const name in request.env) {
    const value = request.env[name]
    if (value === undefined) continue
    if (name === "" || name.includes("=") || !plain(name) || !plain(value)) return undefined
    fields += `\0${name}=${value}`
  }
  return fields
}

/**
 * Starts `request` through the helper and returns true, or returns false
 * when the caller should use Node's `spawn` (off, unavailable, failed, or a
 * request Node's `spawn` is better placed to refuse: NUL bytes, odd names).
 * `fallback` is called instead if the helper fails before the job is sent.
 */
export const launchThroughSpawner = (request: LaunchRequest, handlers: LaunchHandlers, fallback: () => void): boolean => {
  commands++
  mode ??= fromEnvironment(process.env["WEFT_SPAWNER"])
  if (mode === "never" || (mode === "auto" && commands < 2)) return false
  perl ??= findPerl()
  if (perl === null) return false
  if (spawner?.failed) return false
  const fields = jobFields(request)
  if (fields === undefined) return false
  if (spawner === undefined) {
    try {
      spawner = new Spawner(perl)
    } catch {
      return false // no temporary folder: Node's spawn needs none
    }
    const started = spawner
    process.on("exit", () => started.flushNow())
  }
  spawner.launch(request, fields, handlers, fallback)
  return true
}

/** The helper's pid and FIFO folder, for tests; `undefined` until it started. */
export const spawnerProcess = (): { readonly pid: number | undefined; readonly dir: string } | undefined =>
  spawner === undefined ? undefined : { pid: spawner.pid, dir: spawner.dir }
