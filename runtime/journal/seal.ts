/**
 * Journal lines that can be checked: each carries the SHA-256 of its own
 * bytes as its last field, `…,"sum":"<64 hex>"}`, so a line whose bytes
 * changed on disk (a bad sector, a stray write, a hand edit) or that a kill
 * cut short reads as damaged, never as a record of something else. The sum
 * covers the exact bytes written (the line with the field taken out), not a
 * re-serialization, so the check does not depend on how JSON round-trips.
 *
 * The field is added last, so a line stays an ordinary JSON object with
 * every other field as before.
 */
import { hash } from "node:crypto"

const sumOf = (text: string): string => hash("sha256", text, "hex")

const sealed = /,"sum":"([0-9a-f]{64})"\}$/

/**
 * `entry` as one journal line (without its newline), its checksum added.
 *
 * @example
 * sealLine({ end: "succeeded" }) // '{"end":"succeeded","sum":"5e0c…"}'
 */
export const sealLine = (entry: object): string => {
  const body = JSON.stringify(entry)
  if (body === "{}" || !body.endsWith("}")) throw new Error("weft bug: a journal line must be a non-empty object")
  return `${body.slice(0, -1)},"sum":"${sumOf(body)}"}`
}

/** A line as read back: its entry (without `sum`), or why it cannot be trusted. */
export type OpenedLine =
  | { readonly ok: true; readonly entry: Record<string, unknown> }
  | { readonly ok: false; readonly problem: "no checksum" | "checksum mismatch" | "not JSON" }

/** Checks a line written by `sealLine` and parses it. */
export const openLine = (line: string): OpenedLine => {
  const match = sealed.exec(line)
  if (match === null) return { ok: false, problem: "no checksum" }
  const body = `${line.slice(0, match.index)}}`
  if (sumOf(body) !== match[1]) return { ok: false, problem: "checksum mismatch" }
  try {
    const entry: unknown = JSON.parse(body)
    if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) return { ok: true, entry: entry as Record<string, unknown> }
  } catch {
    // The sum matched bytes that are not JSON: only a writer bug can do that.
  }
  return { ok: false, problem: "not JSON" }
}

/**
 * The step a damaged record line names, read from its start as the writer
 * puts it (`{"step":"<id>",…`), or `undefined` when even that is unreadable.
 * Only for saying which step a damaged line was about: never trusted further.
 */
export const stepNamedBy = (line: string): string | undefined => {
  const match = /^\{"step":("(?:[^"\\]|\\.)*")/.exec(line)
  if (match === null) return undefined
  try {
    return JSON.parse(match[1]!) as string
  } catch {
    return undefined
  }
}
