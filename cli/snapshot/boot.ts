/**
 * The start-up snapshot's entry. `weft run` spends most of its start-up
 * loading modules (Effect alone is ~70 files): a V8 startup snapshot
 * (`node --snapshot-blob`) starts with weft, Effect and XState already
 * loaded and initialised. cli/snapshot/build.ts bundles this module with
 * weft's entry points and the packages they use, from this installation's
 * own files, and builds the snapshot; bin/weft (the launcher) starts from it
 * when it is fresh.
 *
 * Inside the snapshot the run must be the run bin/weft.js would do:
 *
 * - A workflow file that imports `weft`, `effect` or `xstate` gets the
 *   snapshot's copy of those modules (a resolve hook maps each file the
 *   snapshot holds to it), never a second copy from disk: a step's Effect
 *   runs on the Effect that runs the step. An import of a file of those
 *   packages that the snapshot does not hold cannot share its copy: the run
 *   goes to bin/weft.js instead, decided before any of the workflow's code
 *   has run (resolution precedes evaluation).
 * - Code compiled into a snapshot has no dynamic `import()` (Node gives it no
 *   loader hook), so the snapshot imports through a function compiled from
 *   a file on disk (runtime/importModule.ts).
 * - What the snapshot does not take (another command, the dashboard, which
 *   loads Ink with a top-level await) goes to bin/weft.js as a child with
 *   the same stdio, signals passed on, and its exit code.
 * - weft's own modules that reach no package outside the snapshot, and the
 *   packages' modules they use, are initialised into it (build.ts,
 *   `initialisation`); the rest of weft (the dashboard, watch, the parser
 *   for step digests, isolation) runs its top level when first imported, and
 *   so do the packages' modules weft's run does not use (Effect's Schema,
 *   Graph).
 *   Nothing initialised into the snapshot may keep a value of the process
 *   that made it (a nonce, a stream, the working folder, the environment):
 *   such values are made when first used (runtime/internal/processTree.ts,
 *   runtime/internal/writeCapture.ts), and snapshot.test.ts checks them.
 */
import { spawn, spawnSync } from "node:child_process"
import { createRequire, enableCompileCache, registerHooks } from "node:module"
import * as v8 from "node:v8"
// Nothing of weft's that keeps state at its top level: see above.
import { setImporter } from "../../runtime/importModule.ts"
import { reporterName } from "../reporterName.ts"

/** What the build hands the boot, fixed in the snapshot. */
export interface BootManifest {
  /** File URL of each module of the bundled packages a workflow file may import → that module as the snapshot holds it. */
  readonly modules: Readonly<Record<string, object>>
  /** Likewise for the modules held but not initialised (build.ts, `deferred`): a function that initialises it, when first imported. */
  readonly lazyModules: Readonly<Record<string, () => object>>
  /**
   * File URL of each of weft's entry points → a function that returns its
   * exports, initialising it first if the snapshot could not (an entry that
   * reaches a deferred module). Synchronous: it runs from the loader hook,
   * when a workflow file imports that entry.
   */
  readonly weft: Readonly<Record<string, () => object>>
  /** The command line itself, initialised at run time. */
  readonly main: () => Promise<typeof import("../main.ts")>
  /** Whether weft runs from its sources (then `weft` resolves under the `weft-source` condition). */
  readonly fromSource: boolean
  /** The bundled packages' folders, as file URLs ending in `/`. */
  readonly packageDirs: ReadonlyArray<string>
  /** URL prefixes of weft's own files (the snapshot's code names them in `import.meta.url`). */
  readonly ownPrefixes: ReadonlyArray<string>
  /** A CommonJS file exporting `(specifier) => import(specifier)`. */
  readonly importer: string
  /** bin/weft.js, for what the snapshot does not take. */
  readonly regularEntry: string
}

const modulesKey = Symbol.for("weft.snapshot.modules")
const shared = "weft-snapshot:"

/** The `node …` arguments that run bin/weft.js with `argv`, outside the snapshot. */
const regularArgs = (manifest: BootManifest, argv: ReadonlyArray<string>) => [manifest.regularEntry, ...argv]

/** Runs bin/weft.js as a child with this process's stdio and signals; exits with its code. */
const handOver = (manifest: BootManifest, argv: ReadonlyArray<string>): void => {
  const child = spawn(process.execPath, regularArgs(manifest, argv), { stdio: "inherit", env: { ...process.env, WEFT_SNAPSHOT_SKIP: "1" } })
  const pass = (signal: NodeJS.Signals) => child.kill(signal)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, pass)
  child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : signal === "SIGTERM" ? 143 : 1)))
}

/** Whether the snapshot takes this command line: `weft run` without the dashboard. */
export const takes = (argv: ReadonlyArray<string>, isTTY: boolean, env: NodeJS.ProcessEnv): boolean => {
  if (argv[0] !== "run") return false
  let given: string | undefined
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") break
    if (arg === "--reporter") given = argv[i + 1]
    else if (arg.startsWith("--reporter=")) given = arg.slice("--reporter=".length)
    else if (arg === "--help" || arg === "-h") return false
  }
  try {
    return reporterName(given, { isTTY, env } as Parameters<typeof reporterName>[1]) !== "tui"
  } catch {
    // A bad --reporter: bin/weft.js says what is wrong with it, as always.
    return false
  }
}

/**
 * The source of a module that re-exports what the snapshot holds for `url`.
 * Through local names: an export may be named by a reserved word (Effect
 * exports `catch`), which `export { local as catch }` allows.
 */
const sharedModuleSource = (url: string, module: object): string => {
  const names = Object.keys(module).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name))
  return [
    `const m = globalThis[Symbol.for("weft.snapshot.modules")][${JSON.stringify(url)}];`,
    ...names.map((name, i) => `const e${i} = m[${JSON.stringify(name)}];`),
    names.length > 0 ? `export { ${names.map((name, i) => `e${i} as ${name}`).join(", ")} };` : ""
  ].join("\n")
}

/** Set in a process started from the snapshot: a step (or a test) can tell. */
export const startedFromSnapshot = Symbol.for("weft.startedFromSnapshot")

const start = async (manifest: BootManifest): Promise<void> => {
  const argv = process.argv.slice(1)
  if (!takes(argv, process.stdout.isTTY === true, process.env)) return handOver(manifest, argv)
  ;(globalThis as Record<symbol, unknown>)[startedFromSnapshot] = true
  enableCompileCache?.()
  setImporter(createRequire(manifest.importer)(manifest.importer) as Parameters<typeof setImporter>[0])
  const { main, finish } = await manifest.main()
  const modules: Record<string, object> = { ...manifest.modules }
  for (const [url, load] of [...Object.entries(manifest.lazyModules), ...Object.entries(manifest.weft)]) {
    let loaded: object | undefined
    Object.defineProperty(modules, url, { enumerable: true, get: () => (loaded ??= load()) })
  }
  ;(globalThis as Record<symbol, unknown>)[modulesKey] = modules
  const weftSource = ["weft-source"]
  registerHooks({
    resolve: (specifier, context, nextResolve) => {
      // From the sources, `weft` resolves to them, as bin/weft.js has it.
      const resolved = manifest.fromSource && (specifier === "weft" || specifier.startsWith("weft/"))
        ? nextResolve(specifier, { ...context, conditions: [...context.conditions, ...weftSource] })
        : nextResolve(specifier, context)
      // weft's own lookups (a package's version, tsx) and the packages' own are
      // not the workflow's imports: they resolve as they always do.
      const parent = context.parentURL ?? ""
      if (manifest.ownPrefixes.some((prefix) => parent.startsWith(prefix)) || manifest.packageDirs.some((dir) => parent.startsWith(dir))) return resolved
      if (Object.hasOwn(modules, resolved.url)) return { url: `${shared}${resolved.url}`, format: "module", shortCircuit: true }
      if (/\.[cm]?js$/.test(resolved.url) && manifest.packageDirs.some((dir) => resolved.url.startsWith(dir))) {
        // A module of a bundled package the snapshot does not hold: it would
        // load a second copy of that package beside the snapshot's. Nothing of
        // the workflow has run yet; bin/weft.js runs it all.
        const out = spawnSync(process.execPath, regularArgs(manifest, argv), { stdio: "inherit", env: { ...process.env, WEFT_SNAPSHOT_SKIP: "1" } })
        process.exit(out.status ?? (out.signal === "SIGINT" ? 130 : 1))
      }
      return resolved
    },
    load: (url, context, nextLoad) => {
      if (!url.startsWith(shared)) return nextLoad(url, context)
      const original = url.slice(shared.length)
      return { format: "module", source: sharedModuleSource(original, modules[original]!), shortCircuit: true }
    }
  })
  await finish(await main(argv))
}

/** Called by the bundle the build generates, while V8 builds the snapshot. */
export const boot = (manifest: BootManifest): void => {
  v8.startupSnapshot.setDeserializeMainFunction(() => void start(manifest))
}
