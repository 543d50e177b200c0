/**
 * weft's side of `permissions.run: ["git"]` for an isolated step: the child
 * has no permission to start processes, so it asks here (isolatePrograms.ts
 * is its side). Each request is decoded, its program resolved and checked
 * (`checkProgram`), and started by weft: detached in a process group of its
 * own, tracked like every group weft starts, with the step's environment, and
 * torn down with the step (`stopAll`: SIGTERM, grace, SIGKILL, as `terminate`
 * does for commands).
 *
 * Synchronous starts (`execFileSync`) come as JSON lines on a pipe of their own
 * (the child blocks reading the answer); asynchronous ones (`spawn`) over the
 * IPC channel, their output and exit sent back as they happen.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { constants } from "node:os"
import * as path from "node:path"
import type { Duplex } from "node:stream"
import * as Result from "effect/Result"
import { killGroup, terminate, track, untrack } from "../Process.ts"
import { checkProgram, type ProgramCheck, type ProgramRules } from "../permissions/programs.ts"
import { decodeRequest, describeMalformed, type ProgramRequest } from "./isolateMessage.ts"

/** What weft tells the child about an asynchronous start. */
export type ProgramEvent =
  | { readonly type: "program"; readonly id: number; readonly event: "started"; readonly pid: number }
  | { readonly type: "program"; readonly id: number; readonly event: "data"; readonly stream: "stdout" | "stderr"; readonly chunk: Uint8Array }
  | { readonly type: "program"; readonly id: number; readonly event: "close"; readonly code: number | null; readonly signal: string | null }
  | { readonly type: "program"; readonly id: number; readonly event: "error"; readonly error: ProgramFailure }

/** Why a start failed, as the fields of the error the child throws. */
export interface ProgramFailure {
  readonly code: string
  readonly message: string
  readonly permission?: string | undefined
  readonly resource?: string | undefined
}

/** The answer to a synchronous request. */
export interface ProgramReply {
  readonly error?: ProgramFailure | undefined
  readonly pid?: number | undefined
  readonly status?: number | null | undefined
  readonly signal?: string | null | undefined
  readonly stdout?: string | undefined
  readonly stderr?: string | undefined
}

export interface ProgramHostOptions {
  /** The step's folder: a relative `cwd` resolves against it. */
  readonly cwd: string
  /** The step's environment: a program's unless the request gives one. */
  readonly env: Readonly<Record<string, string>>
  readonly rules: Omit<ProgramRules, "pathEnv" | "listPathEnv" | "cwd">
  /** What goes before the program's argv (bwrap without network), or nothing. */
  readonly wrap: ReadonlyArray<string>
  readonly send: (event: ProgramEvent) => void
  /** The child broke the protocol: the step fails with this. */
  readonly malformed: (why: string) => void
}

export interface ProgramHost {
  readonly spawn: (id: number, request: ProgramRequest) => void
  readonly kill: (id: number, signal: string) => void
  /** Reads synchronous requests from `channel` and answers on it. */
  readonly serve: (channel: Duplex) => void
  /** Ends every program still running (SIGTERM, `graceMs`, SIGKILL); `done` once all their groups are gone. */
  readonly stopAll: (graceMs: number, done: () => void) => void
}

/** A synchronous request line longer than this is not a request. */
const maxRequestBytes = 16 * 1024 * 1024
/** Node's own default for `execFileSync`. */
const defaultMaxBuffer = 1024 * 1024

interface Running {
  readonly child: ChildProcess
  readonly pid: number
  closed: boolean
  readonly onClosed: Array<() => void>
}

const failureOf = (check: Exclude<ProgramCheck, { _tag: "allowed" }>): ProgramFailure =>
  check._tag === "missing"
    ? { code: "ENOENT", message: `spawn ${check.file} ENOENT` }
    : { code: "ERR_ACCESS_DENIED", message: `may not run ${check.resource}`, permission: check.permission, resource: check.resource }

export const makeProgramHost = (options: ProgramHostOptions): ProgramHost => {
  const running = new Map<number, Running>()
  const byId = new Map<number, Running>()
  let stopping = false

  const check = (request: ProgramRequest): ProgramCheck =>
    checkProgram(request.file, {
      ...options.rules,
      cwd: path.resolve(options.cwd, request.cwd ?? "."),
      pathEnv: (request.env ?? options.env).PATH,
      listPathEnv: options.env.PATH ?? process.env.PATH
    })

  const start = (program: string, request: ProgramRequest, stdin: "pipe" | "ignore"): ChildProcess | ProgramFailure => {
    const argv = [...options.wrap, program, ...request.args]
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: path.resolve(options.cwd, request.cwd ?? "."),
      env: request.env ?? options.env,
      detached: true,
      stdio: [stdin, "pipe", "pipe"]
    })
    const pid = child.pid
    if (pid === undefined) return { code: "ENOENT", message: `spawn ${request.file} ENOENT: could not start it in ${path.resolve(options.cwd, request.cwd ?? ".")}` }
    track(pid)
    const entry: Running = { child, pid, closed: false, onClosed: [] }
    running.set(pid, entry)
    child.on("error", () => {}) // after a pid, `close` says how it ended
    child.on("close", () => {
      entry.closed = true
      untrack(pid)
      running.delete(pid)
      entry.onClosed.forEach((f) => f())
    })
    // Stopping already: whatever the child squeezed in still goes down with it.
    if (stopping) killGroup(pid, "SIGKILL")
    return child
  }

  const runSync = (request: ProgramRequest, reply: (answer: ProgramReply) => void) => {
    const checked = check(request)
    if (checked._tag !== "allowed") return reply({ error: failureOf(checked) })
    if (request.check === true) return reply({})
    const child = start(checked.path, request, request.input === undefined ? "ignore" : "pipe")
    if (!("pid" in child) || child.pid === undefined) return reply({ error: child as ProgramFailure })
    const limit = request.maxBuffer ?? defaultMaxBuffer
    const kept = { stdout: [] as Array<Buffer>, stderr: [] as Array<Buffer> }
    let bytes = { stdout: 0, stderr: 0 }
    let overflow = false
    for (const stream of ["stdout", "stderr"] as const) {
      child[stream]!.on("data", (chunk: Buffer) => {
        bytes = { ...bytes, [stream]: bytes[stream] + chunk.length }
        if (bytes[stream] > limit) {
          if (!overflow) killGroup(child.pid!, "SIGKILL")
          overflow = true
          return
        }
        kept[stream].push(chunk)
      })
    }
    if (request.input !== undefined) child.stdin!.on("error", () => {}).end(Buffer.from(request.input, "base64"))
    child.on("close", (status, signal) =>
      reply({
        pid: child.pid,
        status,
        signal,
        stdout: Buffer.concat(kept.stdout).toString("base64"),
        stderr: Buffer.concat(kept.stderr).toString("base64"),
        error: overflow ? { code: "ENOBUFS", message: `spawnSync ${request.file} ENOBUFS` } : undefined
      }))
  }

  return {
    spawn: (id, request) => {
      const checked = check(request)
      if (checked._tag !== "allowed") return options.send({ type: "program", id, event: "error", error: failureOf(checked) })
      const child = start(checked.path, request, "ignore")
      if (!("pid" in child) || child.pid === undefined) return options.send({ type: "program", id, event: "error", error: child as ProgramFailure })
      byId.set(id, running.get(child.pid)!)
      options.send({ type: "program", id, event: "started", pid: child.pid })
      for (const stream of ["stdout", "stderr"] as const) {
        child[stream]!.on("data", (chunk: Buffer) => options.send({ type: "program", id, event: "data", stream, chunk }))
      }
      child.on("close", (code, signal) => {
        byId.delete(id)
        options.send({ type: "program", id, event: "close", code, signal })
      })
    },
    kill: (id, signal) => {
      const entry = byId.get(id)
      if (entry === undefined || entry.closed) return
      // Only a signal's name: anything else is the default, as Node's `kill()` does.
      killGroup(entry.pid, (signal in constants.signals ? signal : "SIGTERM") as NodeJS.Signals)
    },
    serve: (channel) => {
      let buffered = ""
      channel.on("error", () => {})
      channel.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("utf8")
        if (buffered.length > maxRequestBytes) {
          buffered = ""
          return options.malformed(`a request to start a program over ${maxRequestBytes} bytes`)
        }
        for (let newline = buffered.indexOf("\n"); newline !== -1; newline = buffered.indexOf("\n")) {
          const line = buffered.slice(0, newline)
          buffered = buffered.slice(newline + 1)
          let parsed: unknown
          try {
            parsed = JSON.parse(line)
          } catch {
            return options.malformed("a request to start a program that is not JSON")
          }
          const request = decodeRequest(parsed)
          if (Result.isFailure(request)) return options.malformed(`a request to start a program: ${describeMalformed(request.failure)}`)
          runSync(request.success, (answer) => {
            if (!channel.destroyed) channel.write(JSON.stringify(answer) + "\n")
          })
        }
      })
    },
    stopAll: (graceMs, done) => {
      stopping = true
      let left = running.size
      if (left === 0) return done()
      for (const entry of [...running.values()]) {
        terminate(entry.pid, graceMs, () => entry.closed, entry.onClosed, () => {
          entry.child.stdout?.destroy()
          entry.child.stderr?.destroy()
        }, () => {
          if (--left === 0) done()
        })
      }
    }
  }
}
