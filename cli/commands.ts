/**
 * The commands `weft` knows: each its table (for `--help` and parsing) and
 * where its code is, imported only when the command runs. A new command is
 * one entry here; `weft --help` and `weft help <command>` list it from here.
 */
import type { Io } from "./common.ts"
import { renderHelp, type CommandSpec } from "./flags.ts"
import { showLoading } from "./loading.ts"
import { cacheSpecs, graphSpec, historySpec, initSpec, reportSpec, runSpec, verifySpec, watchSpec, workerSpec } from "./specs.ts"

export interface Command {
  /** The command's table, or its subcommands' (`weft cache stats|prune|clear`). */
  readonly spec: CommandSpec | Readonly<Record<string, CommandSpec>>
  readonly run: (args: ReadonlyArray<string>, io: Io) => Promise<number>
}

export const commands: Readonly<Record<string, Command>> = {
  run: {
    spec: runSpec,
    run: async (args, io) => {
      // The dashboard's first line goes out before the engine's modules load.
      showLoading(args, io)
      return (await import("./run.ts")).runCommand(args, io)
    }
  },
  watch: {
    spec: watchSpec,
    run: async (args, io) => {
      showLoading(args, io)
      return (await import("./watch.ts")).watchCommand(args, io)
    }
  },
  verify: { spec: verifySpec, run: async (args, io) => (await import("./verify.ts")).verifyCommand(args, io) },
  graph: { spec: graphSpec, run: async (args, io) => (await import("./graphCommand.ts")).graphCommand(args, io) },
  history: { spec: historySpec, run: async (args, io) => (await import("./history.ts")).historyCommand(args, io) },
  report: { spec: reportSpec, run: async (args, io) => (await import("./history.ts")).reportCommand(args, io) },
  cache: { spec: cacheSpecs, run: async (args, io) => (await import("./cache.ts")).cacheCommand(args, io) },
  worker: { spec: workerSpec, run: async (args, io) => (await import("./worker.ts")).workerCommand(args, io) },
  init: { spec: initSpec, run: async (args, io) => (await import("./init.ts")).initCommand(args, io) }
}

const isSpec = (spec: Command["spec"]): spec is CommandSpec => typeof (spec as CommandSpec).name === "string"

/** Every table a command has: itself, or each of its subcommands. */
export const specsOf = (command: Command): ReadonlyArray<CommandSpec> => (isSpec(command.spec) ? [command.spec] : Object.values(command.spec))

/** Whether `args` ask for help: `-h` or `--help` before any `--`. */
export const asksHelp = (args: ReadonlyArray<string>): boolean => {
  const end = args.indexOf("--")
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h")
}

/**
 * The help of `command` (with `args` naming a subcommand, that one's), or
 * `undefined` when there is no such command.
 */
export const helpOf = (name: string, args: ReadonlyArray<string> = []): string | undefined => {
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (command === undefined) return undefined
  if (isSpec(command.spec)) return renderHelp(command.spec)
  const sub = args.find((arg) => !arg.startsWith("-"))
  const one = sub !== undefined && Object.hasOwn(command.spec, sub) ? command.spec[sub] : undefined
  return one !== undefined ? renderHelp(one) : Object.values(command.spec).map(renderHelp).join("\n")
}

/** The command (and subcommand) whose `--help` a usage mistake in `argv` should point at, if there is one. */
export const helpName = (argv: ReadonlyArray<string>): string | undefined => {
  const [name, sub] = argv
  const command = name !== undefined && Object.hasOwn(commands, name) ? commands[name]! : undefined
  if (command === undefined) return undefined
  return !isSpec(command.spec) && sub !== undefined && Object.hasOwn(command.spec, sub) ? `${name} ${sub}` : name
}

/** `weft --help`: each command's synopsis and what it does. */
export const overview = (): string => {
  const specs = Object.values(commands).flatMap(specsOf)
  const rows = specs.flatMap((spec) => spec.usage.map((usage, i) => [usage, i === 0 ? spec.summary : ""] as const))
  const width = Math.max(...rows.map(([usage]) => usage.length)) + 2
  return [
    "weft: typed workflows, run as fast as their dependency graph allows.",
    "",
    "Usage:",
    ...rows.map(([usage, summary]) => `  ${usage.padEnd(width)}${summary}`.trimEnd()),
    "  weft help <command>, weft <command> --help   that command's options and an example",
    "  weft --help | --version",
    "",
    "Files: .ts/.js modules whose default export is a workflow, or .json/.yaml specs.",
    "Exit codes: 0 succeeded, 1 failed, 2 bad workflow or usage, 130 interrupted.",
    ""
  ].join("\n")
}
