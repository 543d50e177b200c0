/**
 * `import { workflow } from "weft"` and the `weft` bin work from a packed
 * tarball installed into another project, not only inside this repository.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "../..")

it("runs a workflow that imports weft from an installed tarball", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-pack-"))
  execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: root, stdio: "pipe" })
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))!
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }))
  writeFileSync(path.join(dir, "wf.ts"), [
    `import { workflow } from "weft"`,
    `export default workflow("packed").step("a", () => 21).step("b", { needs: ["a"] }, ({ a }) => a * 2)`,
    // An isolated step's child process loads weft from node_modules too, where Node strips no types.
    `  .step("c", { needs: ["b"], permissions: { isolate: true } }, ({ b }) => { console.log("isolated", process.pid); return b + 1 })`
  ].join("\n"))
  // Dependencies come from npm's cache, filled by the install of this repository.
  execFileSync("npm", ["install", `./${tarball}`, "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, stdio: "pipe" })
  const out = execFileSync(process.execPath, ["node_modules/weft/bin/weft.js", "run", "wf.ts", "--reporter", "json"], { cwd: dir, encoding: "utf8" })
  const events = out.trim().split("\n").map((line) => JSON.parse(line))
  expect(events.at(-1)).toMatchObject({ type: "run:end", status: "succeeded" })
  expect(events.filter((e) => e.type === "step:end").map((e) => `${e.step} ${e.status}`)).toEqual(["a succeeded", "b succeeded", "c succeeded"])
  expect(events.find((e) => e.type === "step:log" && e.step === "c")?.text).toMatch(/^isolated \d+$/)
}, 120_000)
