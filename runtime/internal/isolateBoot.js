// The isolated child's entry, in plain JavaScript. Node strips TypeScript
// itself, except under node_modules, where an installed weft lives; and tsx,
// which bin/weft.js uses there, runs its loader in a worker thread, which the
// child's permissions do not allow. So, installed, the child strips weft's own
// .ts files with an in-thread load hook, then starts.
import * as nodeModule from "node:module"

if (import.meta.url.includes("/node_modules/")) {
  nodeModule.registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith("file:") || !url.includes("/node_modules/") || !/\.m?ts$/.test(new URL(url).pathname)) return nextLoad(url, context)
      const loaded = nextLoad(url, { ...context, format: "module" })
      return { ...loaded, format: "module", source: nodeModule.stripTypeScriptTypes(String(loaded.source)) }
    }
  })
}
// The compile cache folder weft made for this child (isolated.ts), if any: weft and the workflow load from it, not from source.
if (process.argv[2] !== undefined) nodeModule.enableCompileCache?.(process.argv[2])
await import("./isolateChild.ts")
