import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { readSmallFile } from "./smallFile.ts"

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})
const folder = () => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "weft-small-file-"))
  dirs.push(dir)
  return dir
}

describe("readSmallFile", () => {
  it("reads a regular file of the size expected, and nothing of another size", () => {
    const file = path.join(folder(), "a.txt")
    fs.writeFileSync(file, "hello")
    expect(readSmallFile(file, 5)?.toString()).toBe("hello")
    expect(readSmallFile(file, 4)).toBeUndefined()
    expect(readSmallFile(file, 6)).toBeUndefined()
  })

  it("does not follow a symlink", () => {
    const dir = folder()
    fs.writeFileSync(path.join(dir, "target"), "hello")
    fs.symlinkSync(path.join(dir, "target"), path.join(dir, "link"))
    expect(() => readSmallFile(path.join(dir, "link"), 5)).toThrow(/ELOOP/)
  })

  it.skipIf(process.platform === "win32")("answers at once for a FIFO with no writer, where a plain open would block the process", () => {
    const fifo = path.join(folder(), "pipe")
    execFileSync("mkfifo", [fifo])
    // In a child: a blocking open would hang it, and the timeout would say so.
    const module = path.join(import.meta.dirname, "smallFile.ts")
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", `
      const { readSmallFile } = await import(${JSON.stringify(module)})
      console.log(String(readSmallFile(${JSON.stringify(fifo)}, 5)))`], { encoding: "utf8", timeout: 20_000 })
    expect(child.signal).toBeNull()
    expect(child.stdout.trim()).toBe("undefined")
  })
})
