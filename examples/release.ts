/**
 * The README's example: typed outputs, commands, retries, timeouts and an
 * optional step.
 *
 *   npx weft run examples/release.ts
 */
import { cmd, sh, workflow } from "weft"

const publish = async (notes: string, { signal }: { signal: AbortSignal }) => {
  signal.throwIfAborted()
  return { url: `https://example.com/releases/${encodeURIComponent(notes)}` }
}

export default workflow("release", { concurrency: 4 })
  .step("version", () => "1.2.3")
  .step("build", cmd([process.execPath, "-e", "console.log('compiled 42 files')"]))
  .step("notes", { needs: ["version"] }, async ({ version }, ctx) => {
    ctx.progress(1, 2, "drafting")
    return `Release ${version}`
  })
  .step("publish", { needs: ["notes"], after: ["build"], retry: 2, timeout: "30 seconds" },
    ({ notes }, ctx) => publish(notes, { signal: ctx.signal }))
  .step("tweet", { needs: ["publish"], optional: true }, ({ publish }) => sh`echo shipped: ${publish.url}`)
