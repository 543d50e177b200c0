/**
 * The temporary name an output file is written under while it is restored
 * (`<path>.weft-<pid>-<random>`), renamed into place when complete. Such a
 * file is never an output or an input: globs skip it (`fileHashes.ts`), and
 * one whose process is gone is removed when the step's outputs are next
 * captured.
 */
import { randomBytes } from "node:crypto"
import { processAlive } from "./processAlive.ts"

const pattern = /\.weft-(\d+)-[0-9a-z]+$/

/** A fresh temporary name beside `target`, unique to this process and call. */
export const outputTempOf = (target: string): string => `${target}.weft-${process.pid}-${randomBytes(6).toString("hex")}`

/** Whether `name` (a file name or path) is such a temporary name. */
export const isOutputTemp = (name: string): boolean => pattern.test(name)

/** Whether the process that wrote temporary file `name` is gone, so the file can only be a leftover. */
export const isStaleOutputTemp = (name: string): boolean => {
  const pid = pattern.exec(name)?.[1]
  return pid !== undefined && !processAlive(Number(pid))
}
