/**
 * Files that come from another machine are written only where the receiving
 * side's own definition declares outputs: never outside the folder, never
 * through a symlink, never into .weft, never a path no glob matches.
 */
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { useFolders } from "../../test/fixtures/folders.ts"
import { makeFileHasher } from "../cache/fileHashes.ts"
import { collectFiles, writeFiles, type TravelFile } from "./travelFiles.ts"

const folder = useFolders("weft-travel-")
const file = (p: string, text = "x", mode = 0o644): TravelFile => ({ path: p, mode, bytes: new TextEncoder().encode(text) })

describe("files between machines", () => {
  it("writes what the globs declare, with its permission bits, and reads it back the same", async () => {
    const from = folder()
    await writeFiles(from, [file("dist/a.txt", "alpha"), file("dist/bin/run", "#!/bin/sh\n", 0o755)], ["dist/**"], "a test")
    expect(readFileSync(path.join(from, "dist/a.txt"), "utf8")).toBe("alpha")
    expect(statSync(path.join(from, "dist/bin/run")).mode & 0o111).not.toBe(0)
    const back = await collectFiles(makeFileHasher(path.join(folder(), "hashes.json")), from, ["dist/**"], "test files")
    expect(back.map((f) => [f.path, new TextDecoder().decode(f.bytes)]).sort()).toEqual([["dist/a.txt", "alpha"], ["dist/bin/run", "#!/bin/sh\n"]])
  })

  it("refuses, writing nothing, a path outside the folder, through a symlink, in .weft, or that no glob declares", async () => {
    const to = folder()
    const elsewhere = folder()
    mkdirSync(path.join(to, "dist"))
    symlinkSync(elsewhere, path.join(to, "dist", "link"))
    for (const [bad, reason] of [["../escape.txt", /climbs out/], ["dist/link/x.txt", /symlink|outside/], [".weft/cache/x", /weft's own/], ["src/main.ts", /not one of the step's declared outputs/]] as const) {
      await expect(writeFiles(to, [file("dist/ok.txt"), file(bad)], ["dist/**", ".weft/**", "src/**/*.js"], "a worker")).rejects.toThrow(reason)
      expect(existsSync(path.join(to, "dist/ok.txt"))).toBe(false)
    }
    expect(existsSync(path.join(elsewhere, "x.txt"))).toBe(false)
  })
})
