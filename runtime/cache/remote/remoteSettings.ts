/**
 * The remote cache's settings from the environment (`WEFT_REMOTE_CACHE`,
 * `WEFT_REMOTE_CACHE_TOKEN`, `WEFT_REMOTE_CACHE_TEAM`,
 * `WEFT_REMOTE_CACHE_SIGNATURE_KEY`, `WEFT_REMOTE_CACHE_READ_ONLY=1`), and
 * what is wrong with settings given in code. The token is read from the
 * environment rather than a flag: a flag is visible to every user of the
 * machine in `ps`.
 */
import type { RemoteCacheSettings } from "./RemoteCache.ts"

const settingKeys = ["url", "token", "team", "signatureKey", "readOnly", "timeoutMs"]

/** Why `url` cannot be a remote cache's address, or `undefined` when it can. */
export const remoteUrlProblem = (url: string): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `${JSON.stringify(url)} is not a URL: give the server's address, like https://cache.example.com`
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `${JSON.stringify(url)} is not an http(s) URL: give the server's address, like https://cache.example.com`
  if (parsed.username !== "" || parsed.password !== "") return "the URL must not hold credentials (they would be shown in messages): set WEFT_REMOTE_CACHE_TOKEN instead"
  return undefined
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === "" ? undefined : value)

/**
 * The settings the environment gives, with `overrides` (the command line's)
 * on top; `undefined` when no remote cache is named.
 */
export const remoteCacheFromEnv = (
  env: Readonly<Record<string, string | undefined>>,
  overrides: { readonly url?: string | undefined; readonly team?: string | undefined; readonly readOnly?: boolean | undefined } = {}
): RemoteCacheSettings | undefined => {
  const url = nonEmpty(overrides.url) ?? nonEmpty(env.WEFT_REMOTE_CACHE)
  if (url === undefined) return undefined
  const readOnly = overrides.readOnly === true || env.WEFT_REMOTE_CACHE_READ_ONLY === "1" || env.WEFT_REMOTE_CACHE_READ_ONLY === "true"
  return {
    url,
    token: nonEmpty(env.WEFT_REMOTE_CACHE_TOKEN),
    team: nonEmpty(overrides.team) ?? nonEmpty(env.WEFT_REMOTE_CACHE_TEAM),
    signatureKey: nonEmpty(env.WEFT_REMOTE_CACHE_SIGNATURE_KEY),
    readOnly
  }
}

/** What is wrong with `cache.remote` given to `run`, or `undefined` (run options' check). */
export const remoteSettingsProblem = (value: unknown): string | undefined => {
  if (value === false || value === undefined) return undefined
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "must be false or { url, token, team, signatureKey, readOnly, timeoutMs }"
  const record = value as Record<string, unknown>
  const unknown = Object.keys(record).filter((key) => !settingKeys.includes(key))
  if (unknown.length > 0) return `has unknown keys ${unknown.join(", ")} (known: ${settingKeys.join(", ")})`
  if (typeof record.url !== "string") return "needs url, the server's address, like https://cache.example.com"
  const problem = remoteUrlProblem(record.url)
  if (problem !== undefined) return problem
  for (const key of ["token", "team", "signatureKey"]) {
    if (record[key] !== undefined && typeof record[key] !== "string") return `${key} must be a string`
  }
  if (record.readOnly !== undefined && typeof record.readOnly !== "boolean") return "readOnly must be true or false"
  if (record.timeoutMs !== undefined && !(typeof record.timeoutMs === "number" && record.timeoutMs > 0 && Number.isFinite(record.timeoutMs))) {
    return "timeoutMs must be a positive number of milliseconds"
  }
  return undefined
}
