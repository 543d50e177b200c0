/** The repository's promises about itself: the Node it runs on, ESM, the bin and the package entry. */
import { readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))

describe("foundation", () => {
  it("runs the tests on the pinned Node (24), not the machine's older one", () => {
    const major = Number(process.versions.node.split(".")[0])
    expect(major).toBe(Number(String(pkg.devDependencies.node).replace(/^\D*/, "").split(".")[0]))
    expect(major).toBeGreaterThanOrEqual(22)
  })

  it("is an ESM package named weft with a weft bin, supporting Node 22+", () => {
    expect(pkg).toMatchObject({ name: "weft", type: "module", bin: { weft: "./bin/weft" }, engines: { node: ">=22" } })
    // The launcher (a shell script: cli/snapshot/) must be executable as npm links it.
    expect(statSync(path.join(import.meta.dirname, "..", "bin", "weft")).mode & 0o111).toBe(0o111)
  })

  it("resolves `weft` to its own public API by self-reference", async () => {
    const weft = await import("weft")
    for (const name of ["workflow", "fromSpec", "sh", "cmd", "run", "compile"]) expect(typeof weft[name as keyof typeof weft]).toBe("function")
  })
})
