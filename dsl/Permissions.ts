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
}
