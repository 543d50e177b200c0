/**
 * What a step may see of the machine it runs on. For now: the environment
 * variables it reads (`permissions: { env }`), some of them secrets.
 */

/**
 * An environment variable whose value is a secret: the step reads it as
 * usual, and weft replaces its value with `***` in everything the run shows
 * or writes (logs, streamed parts, errors, warnings, the dashboard, log files,
 * traces, history). Only its hash enters cache keys.
 */
export interface Secret {
  readonly _tag: "Secret"
  /** The variable's name. */
  readonly name: string
}

/**
 * Declares an environment variable as a secret, for `permissions.env`.
 *
 * @example
 * workflow("deploy")
 *   .step("upload", { permissions: { env: ["API_URL", secret("API_TOKEN")] } }, sh`curl -H "Authorization: $API_TOKEN" "$API_URL"`)
 */
export const secret = (name: string): Secret => ({ _tag: "Secret", name })

/** Whether `u` is a `secret(name)`. */
export const isSecret = (u: unknown): u is Secret =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "Secret" && typeof (u as { name?: unknown }).name === "string"

/**
 * What a step may see. A step's own `permissions` replace the workflow's
 * (as `cache` does): list shared names in a constant and spread it.
 */
export interface Permissions {
  /**
   * The environment variables the step reads: a function step sees exactly
   * these (plus PATH, HOME, TMPDIR, LANG, LC_ALL, LC_CTYPE, TERM, TZ) in
   * `ctx.env`, a command exactly these in its environment. Their values enter
   * the step's cache key, hashed.
   */
  readonly env?: ReadonlyArray<string | Secret>
  /**
   * Globs of the files the step reads, relative to the workflow's folder.
   * A declaration for now (nothing enforces it): `weft graph --check` and
   * each run warn when a step may write what another reads at the same time.
   */
  readonly read?: ReadonlyArray<string>
  /**
   * Globs of the files the step writes, relative to the workflow's folder.
   * A declaration for now: two steps that may run at the same time and write
   * overlapping paths are reported by `weft graph --check` and warned about
   * at the start of each run.
   *
   * @example
   * workflow("build")
   *   .step("bundle", { permissions: { read: ["src/**"], write: ["dist/**"] } }, sh`esbuild src/app.ts --outdir=dist`)
   */
  readonly write?: ReadonlyArray<string>
  /**
   * Run the step's commands under bubblewrap (`bwrap`, Linux): the file
   * system read-only except the literal base folders of `permissions.write`
   * (created when missing), a private empty `/tmp`, no network unless `net`.
   * Where bwrap does not work the step fails; it never runs unsandboxed, not
   * even with `--allow-all`. A function step's own code is not sandboxed,
   * only the commands it returns.
   *
   * @example
   * workflow("build")
   *   .step("compile", { permissions: { sandbox: true, write: ["dist/**"] } }, sh`tsc --outDir dist`)
   */
  readonly sandbox?: boolean
  /**
   * With `sandbox: true` or `isolate: true`, keep the network (default: off,
   * enforced by bubblewrap; where it does not work, an isolated step keeps
   * the network and the run warns before it starts).
   */
  readonly net?: boolean
  /**
   * Run a function step in its own Node process under Node's permission
   * model: it may read only its workflow's modules, weft and the
   * `node_modules` they resolve from, plus `read`; write only `write`; start
   * processes only with `run: true`. Anything else fails the step, naming the
   * path and the permission to declare. Its inputs and output cross by
   * structured clone (a `Map` or `Date` survives, a function does not). Needs
   * the workflow to come from a file. Commands ignore it (see `sandbox`).
   *
   * @example
   * workflow("report")
   *   .step("parse", { permissions: { isolate: true, read: ["data/**"] } }, () => parse(readFileSync("data/in.csv", "utf8")))
   */
  readonly isolate?: boolean
  /**
   * With `isolate: true`, let the step start processes and worker threads
   * (`true`), or only the programs listed, by name or path (`["git"]`; no
   * shell, no workers). With a list the step's process may start nothing
   * itself: weft starts each program for it, after checking the file a name
   * finds on PATH, and never one the step may write. Default: none.
   */
  readonly run?: boolean | ReadonlyArray<string>
}
