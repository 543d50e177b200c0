/**
 * `npm run build` (prepack runs it): the package as users install it, in
 * dist/.
 *
 * - JavaScript: one esbuild bundle of weft's own modules, split at weft's
 *   entry points (`weft`, `weft/runtime`, the CLI, the isolated step's
 *   child) with the code they share in dist/chunks/. The CLI and the `weft`
 *   a workflow file imports are the same modules. Start-up is why: Node
 *   loading ~140 small files cost a one-step `weft run` about 40 ms
 *   (bench/startup.ts). What only some commands use (the dashboard, watch
 *   mode, the parser) stays in chunks loaded on demand.
 * - Types: tsc's declarations (with declaration maps) beside them, so a
 *   project's `tsc` checks against weft with its default settings.
 *
 * Dependencies are not bundled, Effect least of all: a step may return an
 * Effect or a Stream made with the project's own `effect`, which must run on
 * that same copy. A bundled copy, even one patch version apart, fails them
 * (measured: 4.1.0 in the bundle, 4.1.5 installed: "fiber.yieldNow is not a
 * function"; test/install/install.test.ts runs such steps).
 *
 *   node scripts/build.ts [--outdir dist]
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { copyFileSync, readdirSync, readFileSync, rmSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { build } from "esbuild"

const root = fileURLToPath(new URL("..", import.meta.url))

/** The entry points, as source paths: each is built to the same path under dist/ with .js. */
export const entryPoints = ["index.ts", "runtime/index.ts", "properties/index.ts", "cli/main.ts", "runtime/internal/isolateBoot.ts", "cli/snapshot/boot.ts", "cli/snapshot/build.ts"]

const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> }
const external = Object.keys(pkg.dependencies).flatMap((name) => [name, `${name}/*`])

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(rel)
    return /\.tsx?$/.test(entry.name) && !/\.(test|contract)\.ts$/.test(entry.name) ? [rel] : []
  })

/** The digest of everything the build is made from: weft's sources and the locked dependency versions. */
const buildIdOf = (): string => {
  const hash = createHash("sha256")
  for (const file of [...["dsl", "runtime", "tui", "cli", "properties"].flatMap(sourceFiles), "index.ts", "package-lock.json"].sort()) {
    hash.update(file).update("\0").update(readFileSync(path.join(root, file))).update("\0")
  }
  return hash.digest("hex").slice(0, 32)
}

export const buildPackage = async (outdir: string): Promise<void> => {
  rmSync(outdir, { recursive: true, force: true })
  execFileSync(path.join(root, "node_modules", ".bin", "tsc"), ["-p", path.join(root, "tsconfig.build.json"), "--outDir", outdir], { cwd: root, stdio: "inherit" })
  await build({
    absWorkingDir: root,
    entryPoints,
    outdir,
    outbase: ".",
    entryNames: "[dir]/[name]",
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    sourcemap: "linked",
    external,
    define: { WEFT_BUILD_ID: JSON.stringify(buildIdOf()) },
    logLevel: "warning"
  })
  // Plain CommonJS the start-up snapshot loads from disk (cli/snapshot/importer.cjs says why).
  copyFileSync(path.join(root, "cli", "snapshot", "importer.cjs"), path.join(outdir, "cli", "snapshot", "importer.cjs"))
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: "string", default: "dist" } } })
  await buildPackage(path.resolve(values.outdir))
}
