/** Masking secret values in text the engine shows or writes. */
import { inspect } from "node:util"

/** Replaces every secret value in `text` with `***`. */
export type Redactor = (text: string) => string

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
  if (ordered.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const value of ordered) if (out.includes(value)) out = out.split(value).join(mask)
    return out
  }
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

/** `value` as it is written raw, inside a JSON string and inside an inspected string (without the quotes). */
const escapedForms = (value: string): ReadonlyArray<string> => [
  value,
  JSON.stringify(value).slice(1, -1),
  inspect(value, { breakLength: Infinity, compact: true, maxStringLength: Infinity }).slice(1, -1)
]
