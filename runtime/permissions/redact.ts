/** Masking secret values in text the engine shows or writes. */
import { inspect } from "node:util"

/** Replaces every secret value in `text` with `***`, and says where a text may be cut without splitting one. */
export interface Redactor {
  (text: string): string
  /**
   * The largest position `<= limit` at which `text` may be cut without
   * splitting a secret: not inside an occurrence of one in `text[0, limit)`,
   * nor before a secret's beginning at the end of it (what follows `limit` is
   * taken as unknown, as it is for a line still arriving). `limit` itself
   * when nothing straddles it; `0` when no such place is within twice the
   * longest secret's length before `limit` (a secret longer than the text, a
   * long run of overlapping occurrences): the caller then cuts at `limit`.
   */
  readonly safeCut: (text: string, limit: number) => number
  /** {@link Redactor.safeCut} over UTF-8 bytes, for a line cut before it is decoded. */
  readonly safeByteCut: (bytes: Uint8Array, limit: number) => number
}

/** The mask that stands for a secret's value. */
export const mask = "***"

/**
 * The shortest line of a multi-line secret that is masked on its own. A
 * shorter one (the `}` closing a JSON key file, a `==` of base64 padding, an
 * empty line) is ordinary text: masking it everywhere would mangle the output
 * and hide nothing worth hiding. The same bound as the shortest secret a step
 * may declare (`minSecretLength`).
 */
export const minFragmentLength = 4

/**
 * A redactor for `secrets` (each non-empty). Longer secrets are masked first,
 * so one that contains another is masked whole.
 *
 * A secret with line breaks (a PEM key, a JSON credentials file) is also
 * masked line by line: output reaches the redactor one line at a time (a
 * command's stdout, `console.log` of part of it, each line of an inspected
 * object), so the value whole never appears in it. Each line is trimmed (an
 * indented copy still contains it) and kept if at least
 * {@link minFragmentLength} long. The whole value still goes first, so a text
 * that holds all of it shows one `***`, not one per line.
 *
 * Each value is also masked as it appears quoted: escaped by `JSON.stringify`
 * (a step logging `JSON.stringify({ token })`) and by `util.inspect` (an
 * object passed to `console.log` or `ctx.emit`), where a newline, a quote or
 * a backslash in the secret is written as an escape and the raw value is not
 * in the text.
 */
export const makeRedactor = (secrets: Iterable<string>): Redactor => {
  const values = new Set<string>()
  for (const secret of secrets) {
    if (secret === "") continue
    for (const form of escapedForms(secret)) values.add(form)
    for (const form of encodedForms(secret)) values.add(form)
    if (!/[\r\n]/.test(secret)) continue
    for (const line of secret.split(/\r\n|\r|\n/)) {
      const fragment = line.trim()
      if (fragment.length >= minFragmentLength) for (const form of escapedForms(fragment)) values.add(form)
    }
  }
  const ordered = [...values].sort((a, b) => b.length - a.length)
  if (ordered.length === 0) return Object.assign((text: string) => text, { safeCut: (_: string, limit: number) => limit, safeByteCut: (_: Uint8Array, limit: number) => limit })
  const redact = (text: string) => {
    let out = text
    for (const value of ordered) if (out.includes(value)) out = out.split(value).join(mask)
    return out
  }
  const encoded = ordered.map((value) => Buffer.from(value, "utf8"))
  return Object.assign(redact, {
    safeCut: (text: string, limit: number) => safeCutOf(ordered, limit, (from) => text.slice(from, limit)),
    safeByteCut: (bytes: Uint8Array, limit: number) => {
      const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      return safeCutOf(encoded, limit, (from) => buffer.subarray(from, limit))
    }
  })
}

/**
 * Where a text (or its bytes) known up to `limit` may be cut, given its
 * secret `values`: a cut that lands inside a value's occurrence, or inside a
 * value begun at the end and not complete yet, moves back to where that
 * value starts, until none does. Weft cuts a text only to bound it (a log
 * line over 64 KiB, a streamed part), so moving a cut back costs nothing,
 * and each piece is then masked whole. Only a value's length before the cut
 * is looked at (`known(from)` is the text from `from` to `limit`), so the
 * cost is per cut, not per character of output.
 */
const safeCutOf = <T extends string | Buffer>(values: ReadonlyArray<T>, limit: number, known: (from: number) => T): number => {
  // Secrets overlapping one another run at most two of the longest back; a
  // text that is one long run of overlapping occurrences (a secret `----` in
  // a line of dashes) is masked whole anyway, and walking it would cost a
  // step per character.
  let longest = 0
  for (const value of values) longest = Math.max(longest, value.length)
  const floor = limit - 2 * longest
  let cut = limit
  for (let moved = true; moved && cut > 0;) {
    if (cut < floor) return 0
    moved = false
    for (const value of values) {
      const from = Math.max(0, cut - value.length + 1)
      const text = known(from)
      const first = value[0]!
      for (let at = text.indexOf(first as never, 0); at !== -1 && from + at < cut; at = text.indexOf(first as never, at + 1)) {
        if (beginsAt(text, value, at)) {
          cut = from + at
          moved = true
          break
        }
      }
    }
  }
  return cut
}

/** Whether `value` begins at `at` in `text`, as far as `text` goes. */
const beginsAt = <T extends string | Buffer>(text: T, value: T, at: number): boolean => {
  const length = Math.min(value.length, text.length - at)
  return typeof text === "string"
    ? text.startsWith((value as string).slice(0, length), at)
    : text.compare(value as Buffer, 0, length, at, at + length) === 0
}

/** The shortest run of base64 taken for a secret found inside a longer encoded text: shorter ones would match ordinary base64 by chance. */
const minBase64Core = 8

/**
 * `value` encoded as programs commonly print a credential: URL-encoded
 * (`encodeURIComponent`), and base64 or base64url, whole (with and without
 * padding) and inside a longer encoded text, as in an HTTP Basic
 * `Authorization` header (`base64("user:" + token)`). There the secret's
 * encoding depends on its offset modulo 3, so for each offset the characters
 * that depend only on the secret (the groups of four wholly inside it) are
 * masked, when at least {@link minBase64Core} long. Not covered: hex, other
 * encodings, the value reversed or cut up, and these forms of a secret's
 * separate lines.
 */
const encodedForms = (value: string): Array<string> => {
  const forms: Array<string> = []
  const uri = encodeURIComponent(value)
  if (uri !== value) forms.push(uri)
  const bytes = Buffer.from(value, "utf8")
  for (const standard of [bytes.toString("base64")]) {
    for (const form of [standard, standard.replace(/=+$/, "")]) forms.push(form, toBase64Url(form))
  }
  for (let offset = 0; offset < 3; offset++) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64")
    const core = shifted.slice(offset === 0 ? 0 : 4, Math.floor((offset + bytes.length) / 3) * 4)
    if (core.length >= minBase64Core) forms.push(core, toBase64Url(core))
  }
  return forms
}

const toBase64Url = (base64: string): string => base64.replace(/\+/g, "-").replace(/\//g, "_")

/**
 * `value` as it is written raw, inside a JSON string, inside an inspected
 * string and inside a single-quoted shell word (without the quotes). weft
 * masks a command's words before quoting them (`displayOf`), so it never
 * writes the last itself; a shell does, tracing a script (`set -x`).
 */
const escapedForms = (value: string): ReadonlyArray<string> => [
  value,
  value.replaceAll("'", `'\\''`),
  JSON.stringify(value).slice(1, -1),
  inspect(value, { breakLength: Infinity, compact: true, maxStringLength: Infinity }).slice(1, -1)
]
