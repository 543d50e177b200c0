#!/usr/bin/env node
// The `weft` command. Plain JavaScript so that it can check the Node version
// before anything else loads. weft's own TypeScript runs on Node's built-in
// type stripping (fast to start); tsx is registered only where that cannot
// work: weft installed under node_modules (Node refuses to strip types there),
// or a workflow file that needs more than stripping (see runtime/cli/load.ts).
const [major] = process.versions.node.split(".").map(Number)
if (major < 22) {
  process.stderr.write(
    `weft needs Node.js 22 or newer; this is ${process.version}.\n` +
      `Run it through npm (npx weft …, npm run …), which uses the Node 24 pinned in devDependencies, or install Node 22+.\n`
  )
  process.exit(2)
}
// Caches compiled code, and Node's type-stripped output, between runs: start-up time.
(await import("node:module")).enableCompileCache?.()
if (import.meta.url.includes("/node_modules/")) (await import("tsx/esm/api")).register()
const { main } = await import("../runtime/cli/main.ts")
const code = await main(process.argv.slice(2))
// weft is done when its command is: a step's forgotten timer or socket must
// not hold the process (runtime/cli/openHandles.ts says what was left). But
// first everything written must be out: a write to a pipe may still be
// queued, and exit() drops it. A write's callback runs once it and all
// before it are handed over (or failed: a reader gone is not ours to wait for).
const flushed = (stream) =>
  new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) return resolve()
    stream.once("error", () => resolve())
    stream.write("", () => resolve())
  })
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit(code)
