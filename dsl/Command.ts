/**
 * Commands as step runners: `cmd(argv)` spawns a program directly (no shell,
 * so arguments are never re-parsed), `sh` runs a script through `/bin/sh` with
 * every interpolated value quoted.
 */

/** A process to spawn. */
export interface Command {
  readonly _tag: "Command"
  /** Program and arguments, passed as argv (never through a shell unless `sh` built it). */
  readonly argv: ReadonlyArray<string>
  /** Working directory, relative to the workflow file's folder (default: that folder). */
  readonly cwd?: string | undefined
  /** Variables added to the environment the step inherits. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** How the command is shown in plans and errors. */
  readonly display: string
}

/** What a command step produces: its exit code and standard output (the first 1 MiB). */
export interface CommandOutput {
  readonly exitCode: number
  readonly stdout: string
  /** True when stdout was longer than what is kept (every line still reaches the log). */
  readonly stdoutTruncated: boolean
}

export interface CommandOptions {
  readonly cwd?: string
  readonly env?: Readonly<Record<string, string>>
}

/** Whether `u` is a `Command`. */
export const isCommand = (u: unknown): u is Command =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "Command"

/**
 * Spawns `argv[0]` with the rest as arguments, without a shell.
 *
 * @example
 * workflow("build").step("tsc", cmd(["tsc", "-b"], { cwd: "packages/core" }))
 */
export const cmd = (argv: ReadonlyArray<string>, options: CommandOptions = {}): Command => ({
  _tag: "Command",
  argv: [...argv],
  cwd: options.cwd,
  env: options.env,
  display: argv.map(quote).join(" ")
})

/**
 * A shell script. Its text is taken raw, as a shell script is written: a
 * backslash reaches the shell as typed (`sed 's/\./,/g'`, `printf 'a\0b'`),
 * not as a JavaScript escape. Interpolated values are single-quoted, so
 * `${file}` stays one argument whatever it contains; arrays become several
 * quoted arguments.
 *
 * @example
 * const file = "notes; rm -rf ~.md"
 * workflow("lint").step("lint", sh`markdownlint ${file}`) // runs: markdownlint 'notes; rm -rf ~.md'
 * workflow("csv").step("commas", sh`echo a.b.c | sed 's/\./,/g'`) // prints a,b,c
 */
export const sh = (strings: TemplateStringsArray, ...values: ReadonlyArray<unknown>): Command => {
  // The cooked strings turn `\.` into `.` and `\0` into a NUL byte; the raw
  // ones are the script's text. (A hand-made array without `raw` is taken as given.)
  const text: ReadonlyArray<string | undefined> = strings.raw ?? strings
  let script = text[0] ?? ""
  values.forEach((value, i) => {
    script += (Array.isArray(value) ? value.map((v) => quote(String(v))).join(" ") : quote(String(value))) + (text[i + 1] ?? "")
  })
  return shell(script)
}

/** A shell script from a plain string, used as given: the caller quotes. */
export const shell = (script: string, options: CommandOptions = {}): Command => ({
  _tag: "Command",
  argv: ["/bin/sh", "-c", script],
  cwd: options.cwd,
  env: options.env,
  display: script
})

/** Quotes a word for POSIX sh; words made only of safe characters stay as they are. */
export const quote = (word: string): string =>
  /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
