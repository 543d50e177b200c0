/**
 * One table of flags per command drives both its parsing and its `--help`, so
 * the two cannot drift: a flag the parser accepts is a flag the help lists,
 * with its one-line meaning, and its value is checked by the same entry.
 *
 * Parsing goes through Node's `parseArgs` in its lenient mode (its tokens),
 * and every mistake is said here in weft's words: strict mode's own texts
 * ("argument is ambiguous…") are for library authors, and it reads
 * `--concurrency -1` as two options.
 *
 * @example
 * const spec = { name: "history", usage: ["weft history [file]"], summary: "recent runs",
 *   flags: { last: string("N", "how many runs to list", wholeNumber(1)) }, examples: ["weft history --last 5"] }
 * const { values, positionals } = parseFlags(spec, ["--last", "5"]) // values.last === 5
 */
import { parseArgs } from "node:util"
import { suggestion } from "../dsl/didYouMean.ts"
import { UsageError } from "./common.ts"

/** A flag that is present or not: `--force`. */
export interface BooleanFlag {
  readonly type: "boolean"
  readonly help: string
  readonly short?: string
}

/** A flag with a value: `--concurrency 4`, `--concurrency=4`; `parse` turns the text into the value or throws a `UsageError`. */
export interface StringFlag<T> {
  readonly type: "string"
  /** The value's placeholder in the help: `N`, `FILE`. */
  readonly value: string
  readonly help: string
  readonly parse: (text: string, flag: string) => T
  /** Repeatable: every value is kept, in order. */
  readonly multiple?: boolean
  readonly short?: string
}

export type Flag = BooleanFlag | StringFlag<any>
export type Flags = Readonly<Record<string, Flag>>

type ValueOf<F> = F extends BooleanFlag ? boolean
  : F extends StringFlag<infer T> ? (F extends { readonly multiple: true } ? ReadonlyArray<T> : T) | undefined
  : never

/** What a command's flags parse to: booleans are `false` when absent, values `undefined`. */
export type FlagValues<F extends Flags> = { readonly [K in keyof F]: ValueOf<F[K]> }

/** A command (or subcommand) as `weft <name> --help` shows it. */
export interface CommandSpec<F extends Flags = Flags> {
  /** `run`, or `cache prune` for a subcommand. */
  readonly name: string
  /** One line each: `weft run [file] [step...] [options]`. */
  readonly usage: ReadonlyArray<string>
  /** What the command does, in a line. */
  readonly summary: string
  readonly flags: F
  /** Lines of text after the flags: what the arguments mean, where files go. */
  readonly notes?: ReadonlyArray<string>
  /** Command lines a user can copy, each with an optional `  # comment`. */
  readonly examples: ReadonlyArray<string>
}

export const boolean = (help: string, short?: string): BooleanFlag => (short === undefined ? { type: "boolean", help } : { type: "boolean", help, short })

export const string = <T = string>(value: string, help: string, parse?: (text: string, flag: string) => T): StringFlag<T> =>
  ({ type: "string", value, help, parse: parse ?? ((text) => text as T) })

export const list = <T = string>(value: string, help: string, parse?: (text: string, flag: string) => T): StringFlag<T> & { readonly multiple: true } =>
  ({ ...string(value, help, parse), multiple: true })

/** A whole number of at least `min`; `what` says it in the message when the bare rule would not do. */
export const wholeNumber = (min: number, what = `a whole number of at least ${min}`) => (text: string, flag: string): number => {
  const n = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : NaN
  if (!(Number.isSafeInteger(n) && n >= min)) throw new UsageError(`${flag} must be ${what}, not "${text}"`)
  return n
}

/** One of `names`, with a did-you-mean for a near miss. */
export const oneOf = <const N extends string>(names: ReadonlyArray<N>) => (text: string, flag: string): N => {
  if ((names as ReadonlyArray<string>).includes(text)) return text as N
  const choices = `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`
  throw new UsageError(`${flag} must be ${choices}, not "${text}".${suggestion(text, names)}`.replace(/\.$/, ""))
}

/** Every command takes these; the help lists them too. */
export const helpFlag = { help: boolean("show this help", "h") } as const

const all = <F extends Flags>(spec: CommandSpec<F>): Flags => ({ ...spec.flags, ...helpFlag })

/** The way a flag is written in messages and help: `--concurrency`, `-h, --help`. */
const spelled = (name: string, flag: Flag): string => `${flag.short === undefined ? "" : `-${flag.short}, `}--${name}`

/**
 * Parses `args` by the command's table. Unknown flags (with a did-you-mean),
 * a value missing or given to a flag that takes none, and a value its entry
 * rejects are each a `UsageError` naming the flag. A value may start with a
 * dash (`--concurrency -1` is a bad number, not two options), but not with
 * two: `--trace --force` is a missing value.
 */
export const parseFlags = <F extends Flags>(spec: CommandSpec<F>, args: ReadonlyArray<string>): {
  readonly values: FlagValues<F>
  readonly positionals: Array<string>
  readonly help: boolean
} => {
  const flags = all(spec)
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {}
  for (const [name, flag] of Object.entries(flags)) options[name] = flag.short === undefined ? { type: flag.type } : { type: flag.type, short: flag.short }
  const { tokens } = parseArgs({ args: [...args], options, allowPositionals: true, strict: false, tokens: true })
  const values: Record<string, unknown> = {}
  for (const [name, flag] of Object.entries(spec.flags)) values[name] = flag.type === "boolean" ? false : undefined
  const positionals: Array<string> = []
  let help = false
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value)
    if (token.kind !== "option") continue
    const flag = Object.hasOwn(flags, token.name) ? flags[token.name] : undefined
    if (flag === undefined) {
      const known = Object.entries(flags).map(([name]) => `--${name}`)
      throw new UsageError(`unknown option ${token.rawName} for weft ${spec.name}.${suggestion(token.rawName, known)}`)
    }
    if (token.name === "help") {
      help = true
      continue
    }
    const shown = `--${token.name}`
    if (flag.type === "boolean") {
      if (token.inlineValue === true) throw new UsageError(`${shown} takes no value (got ${token.rawName}=${token.value ?? ""})`)
      values[token.name] = true
      continue
    }
    // `--trace --force`: the next word is a flag, not this one's value.
    const text = token.inlineValue !== true && token.value?.startsWith("--") === true ? undefined : token.value
    if (text === undefined) throw new UsageError(`${shown} needs a value, like ${shown} ${flag.value}`)
    const value = flag.parse(text, shown)
    values[token.name] = flag.multiple === true ? [...((values[token.name] as Array<unknown> | undefined) ?? []), value] : value
  }
  return { values: values as FlagValues<F>, positionals, help }
}

const wrap = (text: string, width: number, indent: string): string => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  lines.push(line)
  return lines.join(`\n${indent}`)
}

/** The flags part of a help: each flag and its meaning, aligned. */
export const renderFlags = (flags: Flags): string => {
  const rows = Object.entries(flags).map(([name, flag]) => [`${spelled(name, flag)}${flag.type === "string" ? ` ${flag.value}` : ""}`, flag.help] as const)
  const width = Math.max(...rows.map(([left]) => left.length)) + 2
  return rows.map(([left, help]) => `  ${left.padEnd(width)}${wrap(help, 78 - width, " ".repeat(width + 2))}`).join("\n")
}

/** `weft <command> --help`: synopsis, each flag with its meaning, notes and examples. */
export const renderHelp = (spec: CommandSpec): string => [
  `weft ${spec.name}: ${spec.summary}`,
  "",
  "Usage:",
  ...spec.usage.map((line) => `  ${line}`),
  "",
  "Options:",
  renderFlags(all(spec)),
  ...(spec.notes === undefined || spec.notes.length === 0 ? [] : ["", ...spec.notes.map((note) => wrap(note, 78, ""))]),
  "",
  spec.examples.length === 1 ? "Example:" : "Examples:",
  ...spec.examples.map((line) => `  ${line}`),
  ""
].join("\n")
