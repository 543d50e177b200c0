/** The repository's promises about itself: the Node it runs on, ESM, the bin and the package entry. */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))

describe("foundation", () => {
  it("runs the tests on the pinned Node (24), not the machine's older one", () => {
    const major = Number(process.versions.node.split(".")[0])
    expect(major).toBe(Number(String(pkg.devDependencies.node).replace(/^\D*/, "").split(".")[0]))
    expect(major).toBeGreaterThanOrEqual(22)
  })

  it("is an ESM package named weft with a weft bin, supporting Node 22+", () => {
    expect(pkg).toMatchObject({ name: "weft", type: "module", bin: { weft: "./bin/weft.js" }, engines: { node: ">=22" } })
  })

  it("resolves `weft` to its own public API by self-reference", async () => {
    const weft = await import("weft")
    for (const name of ["workflow", "fromSpec", "sh", "cmd", "run", "compile"]) expect(typeof weft[name as keyof typeof weft]).toBe("function")
  })
})
