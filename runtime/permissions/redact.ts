/** Masking secret values in text the engine shows or writes. */

/** Replaces every secret value in `text` with `***`. */
export type Redactor = (text: string) => string

/** The mask that stands for a secret's value. */
export const mask = "***"

/**
 * A redactor for `secrets` (each non-empty). Longer secrets are masked first,
 * so one that contains another is masked whole.
 */
export const makeRedactor = (secrets: Iterable<string>): Redactor => {
  const values = [...new Set(secrets)].filter((value) => value !== "").sort((a, b) => b.length - a.length)
  if (values.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const value of values) if (out.includes(value)) out = out.split(value).join(mask)
    return out
  }
}
