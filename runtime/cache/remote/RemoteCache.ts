/**
 * A client of the Turborepo Remote Cache HTTP API: `GET` and `PUT
 * /v8/artifacts/:hash`, `Authorization: Bearer <token>`, the team as
 * `teamId` (an id such as `team_…`) or `slug` (a name), as Vercel's remote
 * cache and self-hosted servers (`turborepo-remote-cache`) serve it.
 *
 * The remote is a help, never a dependency: every request is bounded by
 * `timeoutMs`, and the first one that fails (unreachable, too slow, a token
 * refused, a server error) is said once, through `onWarning`, and ends the
 * remote's use for the client's life (one run): each later step would
 * otherwise wait out the same timeout. A missing artifact (404) is a plain miss.
 *
 * With a signature key, uploads carry `x-artifact-tag` (see
 * `internal/signature.ts`) and a download whose tag is missing or wrong is
 * a miss, with a warning: an artifact is trusted only if someone holding the
 * key made it.
 *
 * @example
 * const remote = makeRemoteCache({ url: "https://cache.example.com", token, team: "acme" }, { onWarning: warn })
 * await remote.put(key, bytes)
 * const body = await remote.get(key) // Uint8Array | undefined
 */
import { artifactTag, isValidTag } from "./internal/signature.ts"

/** Where the shared cache is and how weft may use it. */
export interface RemoteCacheSettings {
  /** The server's base URL, e.g. `https://vercel.com/api` or `http://cache.internal:3000` (the API is under `/v8/`). */
  readonly url: string
  /** Sent as `Authorization: Bearer <token>`; never written to the journal, logs or events. */
  readonly token?: string | undefined
  /** The team: an id starting with `team_` goes as `teamId`, anything else as `slug`. */
  readonly team?: string | undefined
  /** Signs uploads and verifies downloads (Turborepo's `TURBO_REMOTE_CACHE_SIGNATURE_KEY`). */
  readonly signatureKey?: string | undefined
  /** Download only, never upload (pull requests from forks). */
  readonly readOnly?: boolean | undefined
  /** The most one request may take, in milliseconds (default 10 s). */
  readonly timeoutMs?: number | undefined
}

export interface RemoteCache {
  /** The server's origin, for messages (never the token, nor credentials in the URL). */
  readonly where: string
  readonly readOnly: boolean
  /** The artifact's bytes, signature checked; `undefined` when absent, refused, or the remote is out of use. */
  get(hash: string): Promise<Uint8Array | undefined>
  /** Uploads, unless read-only or out of use; never rejects (a failure ends the remote's use, said once). */
  put(hash: string, body: Uint8Array): Promise<void>
}

/** How a client reports, and what it fetches with (tests pass their own). */
export interface RemoteCacheOptions {
  /** Told, in words for the user: the remote going out of use (once), and each artifact refused. */
  readonly onWarning: (message: string) => void
  readonly fetch?: typeof globalThis.fetch
}

/** 10 s: above a slow upload of a few MB over a poor link, far below what a user waits before giving up on a run. */
const defaultTimeoutMs = 10_000

export const makeRemoteCache = (settings: RemoteCacheSettings, options: RemoteCacheOptions): RemoteCache => {
  const base = new URL(settings.url.endsWith("/") ? settings.url : `${settings.url}/`)
  const where = base.origin + base.pathname.replace(/\/$/, "")
  const doFetch = options.fetch ?? globalThis.fetch
  const timeoutMs = settings.timeoutMs ?? defaultTimeoutMs
  const team = settings.team ?? ""
  const query = team === "" ? "" : `?${team.startsWith("team_") ? "teamId" : "slug"}=${encodeURIComponent(team)}`
  const urlOf = (hash: string) => new URL(`v8/artifacts/${hash}${query}`, base)
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(settings.token === undefined || settings.token === "" ? {} : { authorization: `Bearer ${settings.token}` }),
    ...extra
  })
  let down = false

  /** Ends the remote's use for this client, said once; `undefined` for the caller's miss. */
  const giveUp = (what: string, problem: string): undefined => {
    if (down) return undefined
    down = true
    options.onWarning(`remote cache ${where}: ${what} ${problem}; this run goes on with the local cache alone`)
    return undefined
  }
  const failure = (error: unknown): string => {
    const name = error instanceof Error ? error.name : ""
    if (name === "TimeoutError" || name === "AbortError") return `got no answer within ${timeoutMs} ms`
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error)
    return `could not be reached (${cause})`
  }
  const refused = (status: number): string =>
    status === 401 || status === 403
      ? `refused the token (HTTP ${status}): check WEFT_REMOTE_CACHE_TOKEN and the team (WEFT_REMOTE_CACHE_TEAM)`
      : `answered HTTP ${status}`

  return {
    where,
    readOnly: settings.readOnly === true,

    get: async (hash) => {
      if (down) return undefined
      let response: Response
      let body: Uint8Array
      try {
        response = await doFetch(urlOf(hash), { headers: headers(), signal: AbortSignal.timeout(timeoutMs) })
        if (response.status === 404) {
          await response.body?.cancel()
          return undefined
        }
        if (!response.ok) {
          await response.body?.cancel()
          return giveUp("reading", refused(response.status))
        }
        body = new Uint8Array(await response.arrayBuffer())
      } catch (error) {
        return giveUp("reading", failure(error))
      }
      if (settings.signatureKey !== undefined && !isValidTag(settings.signatureKey, hash, team, body, response.headers.get("x-artifact-tag"))) {
        options.onWarning(`remote cache ${where}: artifact ${hash} ${response.headers.has("x-artifact-tag") ? "has a signature that does not match" : "is not signed"} (WEFT_REMOTE_CACHE_SIGNATURE_KEY); it counts as a miss`)
        return undefined
      }
      return body
    },

    put: async (hash, body) => {
      if (down || settings.readOnly === true) return
      const tag: Record<string, string> = settings.signatureKey === undefined ? {} : { "x-artifact-tag": artifactTag(settings.signatureKey, hash, team, body) }
      try {
        const response = await doFetch(urlOf(hash), {
          method: "PUT",
          headers: headers({ "content-type": "application/octet-stream", ...tag }),
          body,
          signal: AbortSignal.timeout(timeoutMs)
        })
        await response.body?.cancel()
        if (!response.ok) giveUp("storing", refused(response.status))
      } catch (error) {
        giveUp("storing", failure(error))
      }
    }
  }
}
