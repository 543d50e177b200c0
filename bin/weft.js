#!/usr/bin/env node
// The `weft` command. Plain JavaScript so that it can check the Node version
// before anything else loads. Installed, weft runs its compiled JavaScript
// (dist/, built by `npm run build` when the package is packed). In its own
// repository it runs its TypeScript sources on Node's type stripping, with no
// build: there `import … from "weft"` in a workflow file must resolve to the
// sources too, which package.json's exports offer under the `weft-source`
// condition. tsx is only the fallback for users' workflow files that need more
// than type stripping (runtime/loadWorkflow.ts).
import { existsSync } from "node:fs"

const fromSource = !import.meta.url.includes("/node_modules/") && existsSync(new URL("../cli/main.ts", import.meta.url))
const [major] = process.versions.node.split(".").map(Number)
if (major < 22) {
  process.stderr.write(
    `weft needs Node.js 22 or newer; this is ${process.version}.\n` +
      (fromSource
        ? `Run it through npm (npx weft …, npm run …), which uses the Node 24 pinned in this repository's devDependencies, or install Node 22+.\n`
        : `Install Node 22 or newer (nodejs.org, or your version manager: nvm install 22), or add it to this project with\n` +
          `npm install -D node@22, after which npx weft and npm scripts run on it.\n`)
  )
  process.exit(2)
}
const nodeModule = await import("node:module")
// Caches compiled code, and Node's type-stripped output, between runs: start-up time.
nodeModule.enableCompileCache?.()
if (fromSource) {
  // In-thread and synchronous (Node 22.15+; this repository pins Node 24).
  // Only `weft` itself needs the condition: every other specifier goes
  // through untouched, since a changed context costs each import a slower
  // resolution (measured: ~100 ms more start-up when all got it).
  const weftSource = ["weft-source"]
  nodeModule.registerHooks({
    resolve: (specifier, context, nextResolve) =>
      specifier === "weft" || specifier.startsWith("weft/")
        ? nextResolve(specifier, { ...context, conditions: [...context.conditions, ...weftSource] })
        : nextResolve(specifier, context)
  })
}
const { main, finish } = await import(fromSource ? "../cli/main.ts" : "../dist/cli/main.js")
const argv = process.argv.slice(2)
const code = await main(argv)
// A later `weft run` can start from a snapshot of weft loaded (cli/snapshot/):
// made here, once it pays, after a run that ended well (not after Ctrl-C).
if (code === 0 && process.env.WEFT_SNAPSHOT !== "0" && process.env.WEFT_SNAPSHOT_SKIP !== "1" && argv[0] === "run") {
  const { maybeBuildSnapshot } = await import(fromSource ? "../cli/snapshot/build.ts" : "../dist/cli/snapshot/build.js")
  await maybeBuildSnapshot(argv)
}
await finish(code)
