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
  /**
   * `display` before its interpolated values were quoted: literal text, and
   * each value as the words it became. `displayOf` masks the secrets in a
   * word before quoting it, since a quoted secret (`'abc'\''def'` for
   * `abc'def`) is no longer the value a redactor looks for.
   */
  readonly shown?: ReadonlyArray<string | ReadonlyArray<string>> | undefined
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
  display: argv.map(quote).join(" "),
  shown: [[...argv]]
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
  const shown: Array<string | ReadonlyArray<string>> = [script]
  values.forEach((value, i) => {
    const words = Array.isArray(value) ? value.map(String) : [String(value)]
    const after = text[i + 1] ?? ""
    script += words.map(quote).join(" ") + after
    shown.push(words, after)
  })
  return { ...shell(script), shown }
}

/** A shell script from a plain string, used as given: the caller quotes. */
export const shell = (script: string, options: CommandOptions = {}): Command => ({
  _tag: "Command",
  argv: ["/bin/sh", "-c", script],
  cwd: options.cwd,
  env: options.env,
  display: script
})

/**
 * How `command` is shown where secrets must not be (an error, the dashboard,
 * the history): each interpolated word masked by `redact` and only then
 * quoted, so no quoted or escaped form of a secret is ever written; then the
 * whole, for a secret in the script's own text. Without `redact`, `display`.
 *
 * @example
 * displayOf(sh`curl -H ${"Authorization: " + token} ${url}`, redact) // curl -H 'Authorization: ***' https://…
 */
export const displayOf = (command: Command, redact: ((text: string) => string) | undefined): string => {
  if (redact === undefined) return command.display
  if (command.shown === undefined) return redact(command.display)
  return redact(command.shown.map((part) => (typeof part === "string" ? part : part.map((word) => quote(redact(word))).join(" "))).join(""))
}

/** Quotes a word for POSIX sh; words made only of safe characters stay as they are. */
export const quote = (word: string): string =>
  /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
