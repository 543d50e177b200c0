/**
 * The `weft` command line. The only part of weft that prints: it parses
 * arguments, loads the workflow, picks a reporter and maps the outcome to an
 * exit code (0 succeeded, 1 failed, 2 bad workflow or usage, 130 interrupted).
 */
import { readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import type { GraphFormat } from "./graph.ts"
import { load, parse, UsageError, type Io } from "./common.ts"
import { cacheHelp } from "./cacheHelp.ts"
import { clearLoading, showLoading } from "./loading.ts"

/**
 * Writes to stdout until its reader goes away. `weft run … | head` closes the
 * pipe early; without this the next write's EPIPE is an unhandled 'error'
 * event that crashes weft with a stack trace. The run itself carries on.
 */
const stdoutWriter = (): ((text: string) => void) => {
  let closed = false
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error
    closed = true
  })
  return (text) => {
    if (!closed) process.stdout.write(text)
  }
}

const defaultIo = (): Io => ({
  stdout: stdoutWriter(),
  stderr: (text) => void process.stderr.write(text),
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

export const help = `weft: typed workflows, run as fast as their dependency graph allows.

Usage:
  weft run [file] [step...] [options]   run a workflow (default file: weft.ts)
  weft watch [file] [step...] [options] run, then rerun what each file change affects
  weft graph [file] [--format F]        show the workflow's graph
  weft graph --check [file]             list steps that may race on declared files (exit 1 if any)
  weft history [file]                   recent runs: status, duration, steps run/cached/failed
  weft report [run] [file]              one run's steps and critical path (default: the last)
  weft cache stats|prune|clear [file]   inspect or trim the step cache
  weft --help | --version

Run options:
  --concurrency N       steps at once, commands included (default: the workflow's, else 64)
  --command-concurrency N
                        command steps at once (default: the workflow's, else
                        --concurrency when given, else one per CPU: ${availableParallelism()})
  --continue            keep independent steps running after a failure
  --reporter R          tui (default on a terminal, not in CI), plain (default
                        otherwise) or json (one event per line)
  --dry-run             print the plan: levels, parallel groups, critical path
  --no-cache            neither read nor write the step cache
  --force               run every step, then overwrite its cache entry
  --resume              continue the last unfinished (killed or failed) run: replay
                        the steps it finished whose definition and inputs are unchanged
  --trace FILE          write the run as a Chrome trace (open it in ui.perfetto.dev)
  --allow-all           permissions off, for debugging: every step sees the whole
                        environment (secrets are still masked)
  Each run's step logs go to .weft/logs/<run>/<step>.log (the last 20 runs kept).

Watch options (and --concurrency, --continue, --reporter, --no-cache, --force, --allow-all and
--trace FILE, which each rerun replaces):
  --debounce MS         quiet time that ends a burst of changes (default 50)
  --ignore GLOB         never react to files matching GLOB (repeatable); .weft,
                        node_modules, .git and steps' cache.outputs never count
  --poll                poll for changes instead of file system events
  Watched: the files steps declare in cache.inputs, and the workflow file with
  the local modules it imports. Keys: r rerun all, f rerun failed, c clear,
  q quit (with --reporter plain or json, also as lines on stdin).

Graph options:
  --format F            text (default), mermaid, dot or json
  --check               instead, list steps that may run at the same time and write
                        the same files, or write what the other reads (exit 1 if any)

History and report options (runs live in .weft/history beside the workflow):
  --last N              history: how many runs to list (default 20)
  --json                print JSON instead of a table
  A run is its id (20261125-225447-3f2a), a unique prefix of one, or -1 for the
  last run, -2 for the one before, and so on.

${cacheHelp}
Naming steps runs them and what they depend on. Files: .ts/.js modules whose
default export is a workflow, or .json/.yaml specs.
Exit codes: 0 succeeded, 1 failed, 2 bad workflow or usage, 130 interrupted.
`

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
  return pkg.version
}

/** Runs the command line; resolves with the exit code. */
export const main = async (argv: ReadonlyArray<string>, io: Io = defaultIo()): Promise<number> => {
  try {
    return await dispatch(argv, io)
  } catch (error) {
    if (error instanceof UsageError) {
      clearLoading(io)
      io.stderr(`weft: ${error.message}\nRun \`weft --help\` for usage.\n`)
      return 2
    }
    clearLoading(io)
    // Loaded only now: the error types pull in modules a command's first frame need not wait for.
    const [{ isDefinitionError }, { LoadError }] = await Promise.all([import("../../dsl/DefinitionError.ts"), import("./load.ts")])
    if (isDefinitionError(error) || error instanceof LoadError) {
      io.stderr(`weft: ${error.message}\n`)
      return 2
    }
    throw error
  }
}

const dispatch = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
      // No command is a usage mistake: the help goes where errors go.
      io.stderr(help)
      return 2
    case "-h":
    case "--help":
    case "help":
      io.stdout(help)
      return 0
    case "-v":
    case "--version":
      io.stdout(`weft ${version()}\n`)
      return 0
    case "run":
      // The dashboard's first line goes out before the engine's modules load.
      showLoading(rest, io)
      return (await import("./run.ts")).runCommand(rest, io)
    case "graph":
      return graphCommand(rest, io)
    case "cache":
      return (await import("./cache.ts")).cacheCommand(rest, io)
    case "watch":
      showLoading(rest, io)
      return (await import("./watch.ts")).watchCommand(rest, io)
    case "history":
      return (await import("./history.ts")).historyCommand(rest, io)
    case "report":
      return (await import("./history.ts")).reportCommand(rest, io)
    default:
      throw new UsageError(`unknown command "${command}". Commands: run, watch, graph, history, report, cache`)
  }
}

const graphCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parse(args, { format: { type: "string", default: "text" }, check: { type: "boolean", default: false } })
  const format = values.format as string
  if (!["text", "mermaid", "dot", "json"].includes(format)) throw new UsageError(`--format must be text, mermaid, dot or json, not "${format}"`)
  if (positionals.length > 1) throw new UsageError(`graph takes one file, got ${positionals.join(" ")}`)
  const loaded = await load(positionals[0] ?? "weft.ts", io)
  // Loaded on demand: effect/Graph is start-up time a plain run does not need.
  const [{ renderGraph }, Plan] = await Promise.all([import("./graph.ts"), import("../Plan.ts")])
  if (values.check === true) {
    const { raceCheck } = await import("../raceCheck.ts")
    const { conflicts, complete } = raceCheck(Plan.make(loaded.workflow, { file: loaded.file }))
    for (const conflict of conflicts) io.stdout(`✗ ${conflict.message}\n`)
    if (!complete) io.stdout("the check stopped early: the graph is too large to search completely\n")
    if (conflicts.length === 0 && complete) io.stdout(`${loaded.workflow.name}: no conflicts\n`)
    return conflicts.length > 0 ? 1 : 0
  }
  io.stdout(renderGraph(Plan.make(loaded.workflow, { file: loaded.file }), format as GraphFormat))
  return 0
}

