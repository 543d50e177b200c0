/**
 * A streamed part as its `step:partial` shows it: strings as they are, other
 * values inspected on one line, cut to a bounded length. Only the event is
 * cut; the step's output keeps the part whole.
 */
import { inspect } from "node:util"

/**
 * The most characters a part's text keeps, as a command's log line keeps 64
 * KiB: every reporter, the dashboard and the cache hold the text, and a
 * megabyte part repeated per section would swamp them all.
 */
export const maxPartChars = 64 * 1024

/**
 * `safeCut` (the redactor's) moves the cut back before a secret that would
 * straddle it, so the kept text holds it whole (and it is masked) or not at
 * all, never its first characters.
 */
export const partText = (part: unknown, max: number = maxPartChars, safeCut?: (text: string, limit: number) => number): string => {
  const text = typeof part === "string"
    ? part
    : inspect(part, { breakLength: Infinity, compact: true, depth: 4, maxArrayLength: 100, maxStringLength: max })
  return text.length <= max ? text : cut(text, max, safeCut)
}

const cut = (text: string, max: number, safeCut: ((text: string, limit: number) => number) | undefined): string => {
  const safe = safeCut === undefined ? max : safeCut(text, max)
  const at = safe > 0 ? safe : max
  // Never split a surrogate pair: half an emoji is not text any terminal shows.
  const end = isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at
  return `${text.slice(0, end)}… (${text.length - end} more characters)`
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff
