/**
 * Run ids: `20261125-225447-3f2a`, the local date and time the run started
 * and four random hex digits. People type them (`weft report 2026112`), so
 * they are short and read as a time; they sort by start time to the second,
 * and the suffix tells apart runs started in the same second (two in one
 * second collide once in 65,536).
 */
import { randomBytes } from "node:crypto"

const two = (n: number) => String(n).padStart(2, "0")

/**
 * A fresh run id for a run starting at `now` (epoch ms, local time).
 *
 * @example
 * makeRunId(Date.now()) // "20261125-225447-3f2a"
 */
export const makeRunId = (now: number): string => {
  const d = new Date(now)
  const date = `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}`
  const time = `${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`
  return `${date}-${time}-${randomBytes(2).toString("hex")}`
}

/** Whether `text` could be a run id: safe as a file name (history and log folders are named by it). */
export const isRunId = (text: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(text)
