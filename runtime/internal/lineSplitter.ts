import { StringDecoder } from "node:string_decoder"

/** The longest line delivered whole; longer lines arrive as pieces of this many bytes. */
export const maxLineBytes = 64 * 1024

/** Turns a byte stream into lines, holding at most one unfinished line of `maxBytes` bytes. */
export interface LineSplitter {
  /** Feeds bytes; calls `onLine` for every line they complete. */
  readonly push: (chunk: Uint8Array) => void
  /** Delivers the last line when the stream did not end with a newline. */
  readonly end: () => void
}

/**
 * Splits on `\n` (a `\r` before it is dropped too, so CRLF output reads the
 * same). Lines are cut by bytes, not characters, so memory is bounded whatever
 * the encoding; one `StringDecoder` runs across every cut, so a character
 * split between two chunks, or between two pieces of a long line, is decoded
 * whole rather than turned into U+FFFD.
 */
export const makeLineSplitter = (onLine: (text: string) => void, maxBytes: number = maxLineBytes): LineSplitter => {
  const decoder = new StringDecoder("utf8")
  let text = ""
  let bytes = 0

  const emit = (line: string) => {
    text = ""
    bytes = 0
    onLine(line)
  }
  // Only called at a newline or at the end, where no valid character can be
  // half-decoded; `end()` flushes invalid leftovers as U+FFFD and resets the decoder.
  const finishLine = () => {
    const line = text + decoder.end()
    emit(line.endsWith("\r") ? line.slice(0, -1) : line)
  }

  const push = (chunk: Uint8Array) => {
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start)
      const stop = newline === -1 ? chunk.length : newline
      while (start < stop) {
        // Cut only when more of the line follows, so a line of exactly
        // `maxBytes` is not followed by an empty one.
        if (bytes === maxBytes) emit(text)
        const take = Math.min(stop - start, maxBytes - bytes)
        text += decoder.write(chunk.subarray(start, start + take))
        bytes += take
        start += take
      }
      if (newline === -1) return
      finishLine()
      start = newline + 1
    }
  }

  const end = () => {
    if (bytes > 0) finishLine()
  }

  return { push, end }
}
