/**
 * The README's example: typed outputs, commands, retries, timeouts and an
 * optional step. `build` and `notes` run side by side and write their
 * artifacts to separate paths under `tmp/release/`, each declared, so
 * `weft graph --check` can tell they do not collide.
 *
 *   npx weft run examples/release.ts
 */
import { mkdir, writeFile } from "node:fs/promises"
import { cmd, sh, workflow } from "weft"

/** Where the release is assembled, in the workflow's folder (ignored by git). */
const out = new URL("./tmp/release/", import.meta.url)

const publish = async (notes: string, { signal }: { signal: AbortSignal }) => {
  signal.throwIfAborted()
  return { url: `https://example.com/releases/${encodeURIComponent(notes)}` }
}

const compile = `
const fs = require("node:fs")
fs.mkdirSync(process.argv[1], { recursive: true })
fs.writeFileSync(process.argv[1] + "/app.js", "console.log('release')\\n")
console.log("compiled 42 files")`

export default workflow("release", { concurrency: 4 })
  .step("version", () => "1.2.3")
  .step("build", { permissions: { write: ["tmp/release/dist/**"] } },
    cmd([process.execPath, "-e", compile, new URL("dist", out).pathname]))
  .step("notes", { needs: ["version"], permissions: { write: ["tmp/release/NOTES.md"] } }, async ({ version }, ctx) => {
    ctx.progress(1, 2, "drafting")
    await mkdir(out, { recursive: true })
    await writeFile(new URL("NOTES.md", out), `# Release ${version}\n`)
    return `Release ${version}`
  })
  .step("publish", { needs: ["notes"], after: ["build"], retry: 2, timeout: "30 seconds" },
    ({ notes }, ctx) => publish(notes, { signal: ctx.signal }))
  .step("tweet", { needs: ["publish"], optional: true }, ({ publish }) => sh`echo shipped: ${publish.url}`)
