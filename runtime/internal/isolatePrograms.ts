/**
 * `permissions.run: ["git", "pandoc"]` inside an isolated step's process: the
 * child side. The child runs without Node's permission to start processes, so
 * nothing in it (not `node:child_process`, not its internals) can start one.
 * `spawn`, `execFile` and their synchronous forms are replaced by clients that
 * ask weft, which checks the program and starts it (programHost.ts): the
 * synchronous ones over a pipe of their own (fd 4, read blocking), the others
 * over the IPC channel. Shells (`exec`, `execSync`, `shell: true`) and `fork`
 * are refused here: a shell runs whatever its string says.
 */
import { EventEmitter } from "node:events"
import { readSync, writeSync } from "node:fs"
import { createRequire, syncBuiltinESMExports } from "node:module"
import { PassThrough } from "node:stream"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import type { ProgramRequest } from "./isolateMessage.ts"
import type { ProgramEvent, ProgramFailure, ProgramReply } from "./programHost.ts"

/** The child's end of the synchronous channel (isolated.ts sets up stdio so). */
export const syncChannelFd = 4

type Fn = (...args: Array<any>) => any
type Options = {
  readonly cwd?: unknown
  readonly env?: unknown
  readonly shell?: unknown
  readonly encoding?: unknown
  readonly input?: unknown
  readonly maxBuffer?: unknown
  readonly stdio?: unknown
}

/** Thrown for a start weft refused; the parent words the message (`deniedMessage`). */
const errorOf = (failure: ProgramFailure): Error => Object.assign(new Error(failure.message), failure)

const shellRefused = (command: unknown): Error =>
  errorOf({ code: "ERR_ACCESS_DENIED", message: "may not run a shell command", permission: "ChildProcessProgram", resource: `a shell command (${String(command)})` })

/** `(file, args?, options?, callback?)` as Node reads it. */
const argsOf = (rest: Array<unknown>): { args: Array<string>; options: Options; callback: Fn | undefined } => {
  const args = Array.isArray(rest[0]) ? (rest.shift() as Array<unknown>).map(String) : []
  if (rest[0] === undefined || rest[0] === null) rest.shift()
  const options = (typeof rest[0] === "object" && rest[0] !== null ? rest.shift() : {}) as Options
  const callback = typeof rest.at(-1) === "function" ? (rest.at(-1) as Fn) : undefined
  return { args, options, callback }
}

const requestOf = (file: unknown, args: Array<string>, options: Options): ProgramRequest => {
  if (options.shell) throw shellRefused(file)
  const cwd = options.cwd instanceof URL ? fileURLToPath(options.cwd) : options.cwd === undefined || options.cwd === null ? undefined : String(options.cwd)
  const env = typeof options.env === "object" && options.env !== null
    ? Object.fromEntries(Object.entries(options.env).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])))
    : undefined
  const input = options.input === undefined ? undefined : Buffer.from(options.input as string).toString("base64")
  const maxBuffer = typeof options.maxBuffer === "number" && Number.isFinite(options.maxBuffer) ? options.maxBuffer : undefined
  return { file: String(file instanceof URL ? fileURLToPath(file) : file), args, cwd, env, input, maxBuffer }
}

/** One synchronous round trip: the request as a line on fd 4, then a blocking read of the answer line. */
const ask = (request: ProgramRequest): ProgramReply => {
  const line = Buffer.from(JSON.stringify(request) + "\n")
  for (let sent = 0; sent < line.length;) sent += writeSync(syncChannelFd, line, sent)
  const buffer = Buffer.alloc(64 * 1024)
  const parts: Array<Buffer> = []
  for (;;) {
    let read: number
    try {
      read = readSync(syncChannelFd, buffer, 0, buffer.length, null)
    } catch (error) {
      // A non-blocking descriptor: wait a little, off the CPU, and read again.
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2)
      continue
    }
    if (read === 0) throw new Error("weft closed the channel for starting programs")
    parts.push(Buffer.from(buffer.subarray(0, read)))
    if (buffer[read - 1] === 0x0a) return JSON.parse(Buffer.concat(parts).toString("utf8")) as ProgramReply
  }
}

const decode = (bytes: Buffer, encoding: unknown): Buffer | string =>
  typeof encoding === "string" && encoding !== "buffer" ? bytes.toString(encoding as BufferEncoding) : bytes

const spawnSync = (file: unknown, ...rest: Array<unknown>) => {
  const { args, options } = argsOf(rest)
  const reply = ask(requestOf(file, args, options))
  if (reply.error?.code === "ERR_ACCESS_DENIED") throw errorOf(reply.error)
  const stdout = decode(Buffer.from(reply.stdout ?? "", "base64"), options.encoding)
  const stderr = decode(Buffer.from(reply.stderr ?? "", "base64"), options.encoding)
  return { pid: reply.pid ?? 0, output: [null, stdout, stderr], stdout, stderr, status: reply.status ?? null, signal: reply.signal ?? null, error: reply.error === undefined ? undefined : errorOf(reply.error) }
}

const commandFailed = (file: unknown, args: Array<string>, fields: Record<string, unknown>, stderr: unknown): Error =>
  Object.assign(new Error(`Command failed: ${[String(file), ...args].join(" ")}${String(stderr) === "" ? "" : `\n${String(stderr)}`}`), fields)

const execFileSync = (file: unknown, ...rest: Array<unknown>) => {
  const { args, options } = argsOf([...rest])
  const result = spawnSync(file, ...rest)
  // Node's default: the program's stderr goes to this process's, which weft logs as the step's.
  if (options.stdio === undefined && String(result.stderr) !== "") process.stderr.write(result.stderr)
  if (result.error !== undefined) throw Object.assign(result.error, { stdout: result.stdout, stderr: result.stderr })
  if (result.status !== 0) throw commandFailed(file, args, { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr, pid: result.pid }, result.stderr)
  return result.stdout
}

/** A started program as `spawn` returns it: output streams, `exit` and `close`, `kill`. Its stdin is closed. */
class RemoteChild extends EventEmitter {
  pid: number | undefined = undefined
  exitCode: number | null = null
  signalCode: string | null = null
  killed = false
  readonly stdin = null
  readonly stdout = new PassThrough()
  readonly stderr = new PassThrough()
  readonly stdio = [null, this.stdout, this.stderr]
  readonly id: number
  constructor(id: number) {
    super()
    this.id = id
  }
  kill(signal: unknown = "SIGTERM"): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false
    this.killed = true
    process.send!({ type: "kill", id: this.id, signal: typeof signal === "number" ? "SIGTERM" : String(signal) })
    return true
  }
  ref(): void {}
  unref(): void {}
}

const children = new Map<number, RemoteChild>()
let nextId = 0

const onProgramEvent = (message: ProgramEvent): void => {
  const child = children.get(message.id)
  if (child === undefined) return
  switch (message.event) {
    case "started":
      child.pid = message.pid
      return void child.emit("spawn")
    case "data":
      return void child[message.stream].write(Buffer.from(message.chunk))
    case "error":
      children.delete(message.id)
      child.stdout.end()
      child.stderr.end()
      return void child.emit("error", errorOf(message.error))
    case "close": {
      children.delete(message.id)
      child.exitCode = message.code
      child.signalCode = message.signal
      child.emit("exit", message.code, message.signal)
      let open = 2
      const ended = () => --open === 0 && child.emit("close", message.code, message.signal)
      for (const stream of [child.stdout, child.stderr]) {
        stream.once("end", ended)
        stream.end()
        // Output nobody reads is dropped, so `close` still comes.
        if (stream.listenerCount("data") === 0 && stream.listenerCount("readable") === 0) stream.resume()
      }
    }
  }
}

const spawnRemote = (file: unknown, ...rest: Array<unknown>): RemoteChild => {
  const { args, options } = argsOf(rest)
  const request = requestOf(file, args, options)
  // Asked first, so a refusal throws here, where the step called, as Node's own permission errors do.
  const checked = ask({ ...request, input: undefined, check: true })
  if (checked.error?.code === "ERR_ACCESS_DENIED") throw errorOf(checked.error)
  const child = new RemoteChild(nextId++)
  children.set(child.id, child)
  process.send!({ type: "spawn", id: child.id, request })
  return child
}

const execFile = (file: unknown, ...rest: Array<unknown>): RemoteChild => {
  const { args, options, callback } = argsOf([...rest])
  const child = spawnRemote(file, args, options)
  const out: Array<Buffer> = []
  const err: Array<Buffer> = []
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk))
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk))
  let failed: Error | undefined
  child.on("error", (error: Error) => {
    failed = error
    callback?.(error, "", "")
  })
  child.on("close", (code: number | null, signal: string | null) => {
    if (failed !== undefined) return
    const stdout = decode(Buffer.concat(out), options.encoding ?? "utf8")
    const stderr = decode(Buffer.concat(err), options.encoding ?? "utf8")
    const error = code === 0 ? null : commandFailed(file, args, { code, signal, killed: child.killed, stdout, stderr }, stderr)
    callback?.(error, stdout, stderr)
  })
  return child
}

// `promisify(execFile)` resolves with both outputs, as Node's does.
Object.defineProperty(execFile, promisify.custom, {
  value: (file: unknown, ...rest: Array<unknown>) =>
    new Promise((resolve, reject) =>
      execFile(file, ...rest, (error: Error | null, stdout: unknown, stderr: unknown) =>
        error === null ? resolve({ stdout, stderr }) : reject(Object.assign(error, { stdout, stderr }))))
})

/** Routes this process's program starts through weft, for imports made before and after. */
export const installProgramClient = (): void => {
  const childProcess = createRequire(import.meta.url)("node:child_process") as Record<string, Fn>
  process.on("message", (message: { type?: unknown }) => {
    if (message?.type === "program") onProgramEvent(message as ProgramEvent)
  })
  Object.assign(childProcess, { spawn: spawnRemote, spawnSync, execFile, execFileSync })
  for (const name of ["exec", "execSync"]) {
    childProcess[name] = (command: unknown) => {
      throw shellRefused(command)
    }
  }
  childProcess.fork = () => {
    throw errorOf({ code: "ERR_ACCESS_DENIED", message: "may not fork", permission: "ChildProcess", resource: "fork" })
  }
  // `import { execFileSync } from "node:child_process"` reads these bindings.
  syncBuiltinESMExports()
}
