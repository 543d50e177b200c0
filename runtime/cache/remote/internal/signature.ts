/**
 * The artifact signature of the Turborepo Remote Cache API (`x-artifact-tag`),
 * computed as current Turborepo does (crates/turborepo-cache,
 * `signature_authentication.rs`): HMAC-SHA256 keyed with the signature key
 * over the artifact's hash, then the team, then the body, in standard base64
 * with padding. So weft and turbo sharing a key can check each other's tags.
 */
import { createHmac, timingSafeEqual } from "node:crypto"

/** The tag to send with an upload of `body` under `hash` for `team`. */
export const artifactTag = (key: string, hash: string, team: string, body: Uint8Array): string =>
  createHmac("sha256", key).update(hash).update(team).update(body).digest("base64")

/** Whether `tag` (as the server returned it, or absent) signs `body` under `hash` for `team`. */
export const isValidTag = (key: string, hash: string, team: string, body: Uint8Array, tag: string | null | undefined): boolean => {
  if (tag === null || tag === undefined || tag === "") return false
  const expected = createHmac("sha256", key).update(hash).update(team).update(body).digest()
  const given = Buffer.from(tag, "base64")
  return given.length === expected.length && timingSafeEqual(given, expected)
}
