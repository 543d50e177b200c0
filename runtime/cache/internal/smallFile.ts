/**
 * Small files are read with synchronous calls on a cache hit's path: for a
 * small file, the four trips through libuv's thread pool of an asynchronous
 * read (open, fstat, read, close) cost far more than the read itself (about
 * 35 us against 5 us a file on an idle machine, milliseconds on a loaded one),
 * and a step's slot is held while they wait. Bigger files are read
 * asynchronously, so the event loop never waits long.
 */
import * as fs from "node:fs"

/** The largest file read synchronously. */
export const syncReadMaxBytes = 256 * 1024

// Never blocks the event loop: a FIFO swapped in opens without waiting for a writer, and a symlink is not followed.
const flags = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOFOLLOW ?? 0)

/**
 * The bytes of regular file `file`, read at once, or `undefined` when it is
 * not a regular file or no longer `size` bytes; for sizes up to
 * `syncReadMaxBytes`. Throws what opening it throws (ENOENT, ELOOP: a symlink).
 */
export const readSmallFile = (file: string, size: number): Buffer | undefined => {
  const fd = fs.openSync(file, flags)
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile() || stat.size !== size) return undefined
    const bytes = Buffer.allocUnsafe(size)
    let got = 0
    while (got < size) {
      const n = fs.readSync(fd, bytes, got, size - got, got)
      if (n === 0) return undefined
      got += n
    }
    return bytes
  } finally {
    fs.closeSync(fd)
  }
}
