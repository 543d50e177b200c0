/**
 * The `weft` command line. The only part of weft that prints: it parses
 * arguments, loads the workflow, picks a reporter and maps the outcome to an
 * exit code (0 succeeded, 1 failed, 2 bad workflow or usage, 130 interrupted).
 */
import { suggestion } from "../dsl/didYouMean.ts"
import { UsageError, type Io } from "./common.ts"
import { asksHelp, commands, helpName, helpOf, overview } from "./commands.ts"
import { clearLoading } from "./loading.ts"
// The light module, not Reporter.ts: the first line goes out before the engine loads.
import { writeStderr, writeStdout } from "../runtime/stdio.ts"
import { weftVersion as version } from "../runtime/packageRoot.ts"

/**
 * Writes to `stream` until its reader goes away. `weft run … | head` closes
 * the pipe early (EPIPE), a closed terminal fails writes with EIO; without
 * this the next write's error is an unhandled 'error' event that crashes weft
 * with a stack trace. The run itself carries on (after SIGHUP, to its
 * teardown).
 */
const writerTo = (stream: NodeJS.WriteStream, write: (text: string) => void): ((text: string) => void) => {
  let closed = false
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "EIO") throw error
    closed = true
  })
  return (text) => {
    if (!closed) write(text)
  }
}

const defaultIo = (): Io => ({
  stdout: writerTo(process.stdout, writeStdout),
  stderr: writerTo(process.stderr, writeStderr),
  cwd: process.cwd(),
  signals: process,
  isTTY: process.stdout.isTTY === true,
  env: process.env,
  openResources: () => process.getActiveResourcesInfo(),
  // A getter: merely touching process.stdin sets up a stream, which only `weft watch` reads.
  get stdin() {
    return process.stdin
  }
})

/** `weft --help`: the commands; each command's own `--help` has its options. */
export const help = overview()


/**
 * Ends the process with `code` once everything written is out. weft is done
 * when its command is: a step's forgotten timer or socket must not hold the
 * process (openHandles.ts says what was left). A write to a pipe may still be
 * queued, and exit() drops it; a write's callback runs once it and all before
 * it are handed over (or failed: a reader gone is not ours to wait for).
 */
export const finish = async (code: number): Promise<never> => {
  const flushed = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (stream.destroyed || stream.writableEnded) return resolve()
      stream.once("error", () => resolve())
      stream.write("", () => resolve())
    })
  await Promise.all([flushed(process.stdout), flushed(process.stderr)])
  return process.exit(code)
}

/** Runs the command line; resolves with the exit code. */
export const main = async (argv: ReadonlyArray<string>, io: Io = defaultIo()): Promise<number> => {
  try {
    return await dispatch(argv, io)
  } catch (error) {
    if (error instanceof UsageError) {
      clearLoading(io)
      const name = helpName(argv)
      io.stderr(`weft: ${error.message}\nRun \`weft ${name === undefined ? "" : `${name} `}--help\` for ${name === undefined ? "usage" : "its options"}.\n`)
      return 2
    }
    clearLoading(io)
    // Loaded only now: the error types pull in modules a command's first frame need not wait for.
    const [{ isDefinitionError }, { LoadError }] = await Promise.all([import("../dsl/DefinitionError.ts"), import("../runtime/loadWorkflow.ts")])
    if (isDefinitionError(error) || error instanceof LoadError) {
      io.stderr(`weft: ${error.message}\n`)
      return 2
    }
    throw error
  }
}

const dispatch = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const [name, ...rest] = argv
  switch (name) {
    case undefined:
      // No command is a usage mistake: the help goes where errors go.
      io.stderr(help)
      return 2
    case "-h":
    case "--help":
      io.stdout(help)
      return 0
    case "help": {
      if (rest[0] === undefined) {
        io.stdout(help)
        return 0
      }
      const text = helpOf(rest[0], rest.slice(1))
      if (text === undefined) throw unknownCommand(rest[0])
      io.stdout(text)
      return 0
    }
    case "-v":
    case "--version":
      io.stdout(`weft ${version()}\n`)
      return 0
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (command === undefined) throw unknownCommand(name)
  if (asksHelp(rest)) {
    io.stdout(helpOf(name, rest)!)
    return 0
  }
  return command.run(rest, io)
}

const unknownCommand = (name: string): UsageError =>
  new UsageError(`unknown command "${name}".${suggestion(name, Object.keys(commands))} Commands: ${Object.keys(commands).join(", ")}`)
