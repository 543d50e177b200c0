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
 *
 * A line that starts in one chunk and ends in a later one is copied, as
 * bytes, into one buffer kept for the purpose (outside the JavaScript heap),
 * and decoded once, when it is complete: holding it as text cost a string per
 * chunk and another to join them, and kept up to 64 KiB of text alive between
 * chunks, which the garbage collector then copied and promoted; and holding
 * views of the chunks kept each 64 KiB chunk alive.
 */
/**
 * Where a full piece of `limit` bytes may be cut (at most `limit`), so that a
 * secret is not split between two pieces and left partly unmasked: the
 * redactor's `safeByteCut`. The bytes after the cut start the next piece.
 */
export type SafeCut = (bytes: Uint8Array, limit: number) => number

/**
 * With `safeCut`, a long line is cut where it says rather than at exactly
 * `maxBytes` (never at 0: a secret longer than a piece is cut at `maxBytes`).
 */
export const makeLineSplitter = (onLine: (text: string) => void, maxBytes: number = maxLineBytes, safeCut?: SafeCut): LineSplitter => {
  const decoder = new StringDecoder("utf8")
  /** The unfinished line's bytes (allocated when a line first spans chunks), `bytes` of them, and the last of them. */
  let held: Buffer | undefined
  let bytes = 0
  let lastByte = -1

  /** The held bytes as text; a character cut at their end stays in the decoder for the next piece. */
  const decodeHeld = (): string => {
    const text = bytes === 0 ? "" : decoder.write(held!.subarray(0, bytes))
    bytes = 0
    return text
  }
  /** Delivers the held piece of a line longer than `maxBytes`, keeping what comes after a safe cut for the next one. */
  const cutHeld = () => {
    const at = safeCut === undefined ? bytes : safeCut(held!, bytes)
    if (at <= 0 || at >= bytes) return onLine(decodeHeld())
    // A cut at a secret's first byte is at a character's start: the decoder holds nothing back.
    onLine(decoder.write(held!.subarray(0, at)))
    held!.copyWithin(0, at, bytes)
    bytes -= at
  }
  // Only called at a newline or at the end, where no valid character can be
  // half-decoded; `end()` flushes invalid leftovers as U+FFFD and resets the decoder.
  const finishLine = () => {
    const line = decodeHeld() + decoder.end()
    // The newline is ASCII, so a CR right before it is the text's last character.
    onLine(lastByte === 0x0d ? line.slice(0, -1) : line)
  }

  const push = (bytesIn: Uint8Array) => {
    const chunk = Buffer.isBuffer(bytesIn) ? bytesIn : Buffer.from(bytesIn.buffer, bytesIn.byteOffset, bytesIn.byteLength)
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start)
      const stop = newline === -1 ? chunk.length : newline
      // The usual case, a whole line inside the chunk and no longer than the
      // limit, is decoded straight from the chunk. A line starts after a
      // newline, so no character of it began in an earlier chunk, and
      // decoding it alone gives what the decoder would (U+FFFD for a broken
      // character included).
      if (newline !== -1 && bytes === 0 && stop - start <= maxBytes) {
        onLine(chunk.toString("utf8", start, stop > start && chunk[stop - 1] === 0x0d ? stop - 1 : stop))
        start = newline + 1
        continue
      }
      while (start < stop) {
        // Cut only when more of the line follows, so a line of exactly
        // `maxBytes` is not followed by an empty one.
        if (bytes === maxBytes) cutHeld()
        const take = Math.min(stop - start, maxBytes - bytes)
        held ??= Buffer.allocUnsafe(maxBytes)
        chunk.copy(held, bytes, start, start + take)
        bytes += take
        start += take
        lastByte = chunk[start - 1]!
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
