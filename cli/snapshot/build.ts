/**
 * Builds weft's start-up snapshot for this installation and this Node
 * (boot.ts says what it is for). The snapshot is made from the files this
 * installation runs (weft's dist/ or sources, the installed Effect and
 * XState), so a run from it is the run bin/weft.js would do; it lives in
 * weft's own folder (`.snapshot/`, or `$WEFT_SNAPSHOT_DIR`), so reinstalling
 * or updating weft drops it.
 *
 * `index` there lists, per Node that the launcher (bin/weft) finds on the
 * PATH, the snapshot and the files it was made from, tab-separated. The
 * launcher starts from a snapshot only while it is newer than every one of
 * those files and folders (an edit, an update of a package, a new Node all
 * make a file or folder newer), with no process of its own to ask.
 *
 * A snapshot is made on the second `weft run` the snapshot would take (the
 * first of a CI job that starts from nothing never pays for it), or on the
 * first with `WEFT_SNAPSHOT=1`; never with `WEFT_SNAPSHOT=0`. It takes about
 * a second, after the run's output is out. A snapshot that cannot be made is
 * not tried again until what it is made from changes.
 */
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { isBuiltin } from "node:module"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { fromSource, weftModules, weftRoot } from "../../runtime/packageRoot.ts"
import { takes } from "./boot.ts"

/** Where snapshots live. */
export const snapshotDir = (env: NodeJS.ProcessEnv = process.env): string => env.WEFT_SNAPSHOT_DIR ?? path.join(weftRoot, ".snapshot")

/** The Node the launcher found (it says so in WEFT_NODE), else this one. */
const launcherNode = (env: NodeJS.ProcessEnv): string => env.WEFT_NODE ?? process.execPath

const nodeKey = (node: string): string => createHash("sha256").update(node).update("\0").update(process.version).digest("hex").slice(0, 16)

interface IndexLine {
  readonly node: string
  readonly blob: string
  readonly deps: ReadonlyArray<string>
}

const readIndex = (dir: string): Array<IndexLine> => {
  try {
    return readFileSync(path.join(dir, "index"), "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const [node = "", blob = "", ...deps] = line.split("\t")
        return { node, blob, deps }
      })
  } catch {
    return []
  }
}

/** A file's modification time; a missing one counts as newer than anything. */
const mtimeMs = (file: string): number => {
  try {
    // stat, not lstat: the launcher's `-nt` follows links too.
    return statSync(file).mtimeMs
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/** The launcher's rule, here: the snapshot exists and is newer than each of its files. */
export const isFresh = (line: IndexLine): boolean => {
  const blob = mtimeMs(line.blob)
  return Number.isFinite(blob) && line.deps.every((dep) => mtimeMs(dep) < blob)
}

/** What the snapshot is made from, that a change to would make it stale: files and the folders holding them. */
const dependencies = (node: string, inputs: ReadonlyArray<string>, packageDirs: ReadonlyArray<string>, importer: string): Array<string> => {
  const files = new Set<string>([node, importer, path.join(weftRoot, "package.json")])
  try {
    files.add(realpathSync(node))
  } catch {
    // A Node that is gone: the launcher will not find it either.
  }
  for (const dir of packageDirs) files.add(dir).add(path.join(dir, "package.json"))
  for (const input of inputs) {
    if (!ownFile(input) && input.includes(`${path.sep}node_modules${path.sep}`)) continue
    files.add(input).add(path.dirname(input))
  }
  return [...files]
}

/**
 * Whether `file` is weft's own: inside weft's folder and not in a package
 * below it. Installed, weft sits in node_modules itself; in its repository,
 * its packages sit in node_modules below it.
 */
const ownFile = (file: string): boolean =>
  file.startsWith(weftRoot + path.sep) && !file.slice(weftRoot.length).includes(`${path.sep}node_modules${path.sep}`)

/** `dir/node_modules/<name>` (or `@scope/name`) of a file inside a package. */
const packageDirOf = (file: string): string | undefined => {
  const parts = file.split(path.sep)
  const at = parts.lastIndexOf("node_modules")
  if (at < 0 || at + 1 >= parts.length) return undefined
  const scoped = parts[at + 1]!.startsWith("@")
  return parts.slice(0, at + (scoped ? 3 : 2)).join(path.sep)
}

/**
 * esbuild turns ESM into the CommonJS script a snapshot needs, where
 * `import.meta` is empty: each module's own `import.meta.url`, `.dirname`
 * and `.filename` are written into it instead (weft finds its folder by
 * them).
 */
const importMetaPlugin = {
  name: "weft-import-meta",
  setup(build: { onLoad: (options: { filter: RegExp }, callback: (args: { path: string }) => { contents: string; loader: "ts" | "js" } | undefined) => void }) {
    build.onLoad({ filter: /\.([cm]?js|ts)$/ }, (args) => {
      const text = readFileSync(args.path, "utf8")
      if (!text.includes("import.meta")) return undefined
      const values: Record<string, string> = { url: pathToFileURL(args.path).href, dirname: path.dirname(args.path), filename: args.path }
      const contents = text.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, key: string) => JSON.stringify(values[key]))
      return { contents, loader: args.path.endsWith(".ts") ? "ts" : "js" }
    })
  }
}

/**
 * Not in the snapshot: loaded from disk when used (the dashboard, watch mode,
 * tsx; YAML for .yaml specs, acorn for step digests). Every module in the
 * snapshot costs every start its deserialisation (about 4 ms per MB).
 */
const external = ["ink", "ink/*", "react", "react/*", "chokidar", "chokidar/*", "tsx", "tsx/*", "esbuild", "fsevents", "yaml", "yaml/*", "acorn", "acorn/*", "bullmq", "bullmq/*", "ioredis"]

/** esbuild's metafile inputs: each file's imports. */
type Inputs = Readonly<Record<string, { readonly imports: ReadonlyArray<{ readonly path: string; readonly kind: string; readonly external?: boolean }> }>>

/**
 * Package modules that are held in the snapshot but initialised only when
 * first imported (by a workflow, or by weft's isolation), with everything
 * that reaches them: Effect's Schema (and what it alone brings: JSON Schema,
 * crypto, HTTP and network types) and Graph are about a third of Effect's
 * code, which a plain run does not use; initialising them into every
 * snapshot cost each run ~12 ms of start-up.
 */
const deferred = [/[/\\]effect[/\\]dist[/\\]Schema\.js$/, /[/\\]effect[/\\]dist[/\\]Graph\.js$/]

/**
 * What is initialised into the snapshot (`eager`: weft's own files and the
 * packages' modules they reach) and what is only held in it (`lazy`).
 *
 * weft's own files are initialised unless their static imports, followed
 * through, reach a package outside the snapshot (Ink, tsx, YAML…: Ink
 * cannot even be required there) or a deferred module. Running their top
 * level while the snapshot is made spares each run ~20 ms; it is safe
 * because weft's modules keep nothing of the process at their top level (a
 * nonce, a stream, the working folder, the environment), only tables,
 * constants and functions: what must be this run's is made when first used
 * (runtime/internal/processTree.ts, runtime/internal/writeCapture.ts). The
 * tests in snapshot.test.ts check it for the nonce, the streams and the
 * environment.
 */
const initialisation = (inputs: Inputs, work: string, shared: ReadonlyArray<string>): { readonly own: Array<string>; readonly eager: Array<string>; readonly lazy: Array<string> } => {
  const files = Object.entries(inputs).map(([input, info]) => ({
    file: path.resolve(input),
    statics: info.imports.filter((i) => i.kind !== "dynamic-import" && !(i.external === true && isBuiltin(i.path)))
  }))
  const byFile = new Map(files.map((f) => [f.file, f]))
  // Blocked: a static import of an external or a deferred module, or of a blocked file; spread until nothing changes (imports may cycle).
  const blocked = new Set(files.filter((f) => deferred.some((re) => re.test(f.file)) || f.statics.some((i) => i.external === true)).map((f) => f.file))
  for (let grew = true; grew;) {
    grew = false
    for (const f of files) {
      if (!blocked.has(f.file) && f.statics.some((i) => blocked.has(path.resolve(i.path)))) {
        blocked.add(f.file)
        grew = true
      }
    }
  }
  const own = files.map((f) => f.file).filter((file) => ownFile(file) && !file.startsWith(work + path.sep) && /\.[cm]?[jt]s$/.test(file) && !blocked.has(file))
  // The packages' modules those reach, statically: initialised with them.
  const reached = new Set<string>()
  const visit = (file: string): void => {
    if (reached.has(file)) return
    reached.add(file)
    for (const i of byFile.get(file)?.statics ?? []) if (i.external !== true) visit(path.resolve(i.path))
  }
  own.forEach(visit)
  return { own, eager: shared.filter((file) => reached.has(file)), lazy: shared.filter((file) => !reached.has(file)) }
}

/** weft's files as this layout has them: the boot, and the entry points a workflow file imports. */
const weftFiles = () => {
  const file = (source: string) => (fromSource ? path.join(weftRoot, source) : path.join(weftRoot, "dist", source.replace(/\.ts$/, ".js")))
  return { boot: file("cli/snapshot/boot.ts"), main: file("cli/main.ts"), entries: [file("index.ts"), file("runtime/index.ts")], regular: path.join(weftRoot, "bin", "weft.js") }
}

/** URL prefixes of weft's own files: `isWeftFile`'s (runtime/packageRoot.ts), as URLs. */
const ownPrefixes = (): Array<string> => {
  const root = pathToFileURL(weftRoot).href
  return [...weftModules.folders.map((dir) => `${root}/${dir}/`), `${root}/${weftModules.entry}`]
}

export type BuildResult =
  /** `ascii`: whether the bundle's text is all ASCII, so that V8 holds it at one byte a character (see the build). */
  | { readonly ok: true; readonly blob: string; readonly ascii: boolean }
  | { readonly ok: false; readonly reason: string }

/** Builds the snapshot for `node` (the launcher's Node path), and lists it in the index. */
export const buildSnapshot = async (env: NodeJS.ProcessEnv = process.env): Promise<BuildResult> => {
  const { build } = await import("esbuild")
  const dir = snapshotDir(env)
  mkdirSync(dir, { recursive: true })
  const node = launcherNode(env)
  const key = nodeKey(node)
  const work = mkdtempSync(path.join(tmpdir(), "weft-snapshot-"))
  try {
    const files = weftFiles()
    const importer = fromSource ? path.join(weftRoot, "cli", "snapshot", "importer.cjs") : path.join(weftRoot, "dist", "cli", "snapshot", "importer.cjs")
    // First: what weft's boot and entry points bundle, from this installation's files.
    const stub = path.join(work, "stub.mjs")
    writeFileSync(stub, [files.boot, files.main, ...files.entries].map((f) => `import ${JSON.stringify(f)}`).join("\n"))
    const common = { bundle: true, platform: "node" as const, target: "node22", external, logLevel: "silent" as const, conditions: fromSource ? ["weft-source"] : [] }
    const first = await build({ ...common, entryPoints: [stub], write: false, metafile: true, format: "esm", outdir: work })
    // The stub is not among what the snapshot is made from: it is gone once made.
    const inputs = Object.keys(first.metafile.inputs).map((input) => path.resolve(input)).filter((input) => !input.startsWith(work + path.sep))
    const packageFiles = inputs.filter((input) => !ownFile(input) && /\.[cm]?js$/.test(input) && packageDirOf(input) !== undefined)
    const packageDirs = [...new Set(packageFiles.map((input) => packageDirOf(input)!))]
    // Then: the snapshot's entry, holding each module a workflow may import by
    // name (a package's internal files it cannot, so they are left to shake).
    // The packages' modules and weft's initialisable ones are imported here,
    // so initialised into the snapshot; weft's entries are initialised when
    // a workflow imports them, and the rest when first imported.
    const shared = packageFiles.filter((file) => !file.split(path.sep).includes("internal"))
    const { own, eager, lazy } = initialisation(first.metafile.inputs, work, shared)
    const entry = path.join(work, "entry.mjs")
    writeFileSync(entry, [
      `import { boot } from ${JSON.stringify(files.boot)}`,
      ...eager.map((file, i) => `import * as m${i} from ${JSON.stringify(file)}`),
      ...own.map((file) => `import ${JSON.stringify(file)}`),
      `boot({`,
      `  modules: { ${eager.map((file, i) => `${JSON.stringify(pathToFileURL(file).href)}: m${i}`).join(", ")} },`,
      // require: the bundler makes it a synchronous initialiser of the module.
      `  lazyModules: { ${lazy.map((file) => `${JSON.stringify(pathToFileURL(file).href)}: () => require(${JSON.stringify(file)})`).join(", ")} },`,
      `  weft: { ${files.entries.map((file) => `${JSON.stringify(pathToFileURL(file).href)}: () => require(${JSON.stringify(file)})`).join(", ")} },`,
      `  main: () => import(${JSON.stringify(files.main)}),`,
      `  fromSource: ${JSON.stringify(fromSource)},`,
      `  packageDirs: ${JSON.stringify(packageDirs.map((d) => `${pathToFileURL(d).href}/`))},`,
      `  ownPrefixes: ${JSON.stringify(ownPrefixes())},`,
      `  importer: ${JSON.stringify(importer)},`,
      `  regularEntry: ${JSON.stringify(files.regular)}`,
      `})`
    ].join("\n"))
    const bundle = path.join(work, "weft-snapshot.cjs")
    // Without comments or indentation: the bundle's text is kept in the
    // snapshot, and one non-ASCII character in a comment (a "→") makes V8
    // hold all of it as two bytes a character. Every start reads, copies and
    // deserialises the blob (3.3 MB less, 37 ms less a start here); names are
    // kept, and line numbers never pointed at a file that outlives the build.
    await build({ ...common, entryPoints: [entry], outfile: bundle, format: "cjs", minifyWhitespace: true, legalComments: "none", plugins: [importMetaPlugin] })
    const ascii = !/[^\x00-\x7f]/.test(readFileSync(bundle, "latin1"))
    // Made in its folder (a rename from the temporary folder may cross file systems).
    const blob = path.join(dir, `weft-${key}.${process.pid}.tmp`)
    const made = spawnSync(process.execPath, ["--snapshot-blob", blob, "--build-snapshot", bundle], { cwd: work, encoding: "utf8", env: { ...env, NODE_OPTIONS: "" } })
    if (made.status !== 0 || !existsSync(blob)) {
      rmSync(blob, { force: true })
      const reason = `node --build-snapshot exited ${made.status ?? made.signal}: ${(made.stderr ?? "").split("\n").find((line) => /Error|error/.test(line)) ?? ""}`.trim()
      writeFileSync(path.join(dir, `failed-${key}`), `${reason}\n${dependencies(node, inputs, packageDirs, importer).join("\t")}\n`)
      return { ok: false, reason }
    }
    const target = path.join(dir, `weft-${key}.blob`)
    renameSync(blob, target)
    const line: IndexLine = { node, blob: target, deps: dependencies(node, inputs, packageDirs, importer) }
    const lines = [...readIndex(dir).filter((l) => l.node !== node), line]
    const temp = path.join(dir, `index.${process.pid}.tmp`)
    writeFileSync(temp, lines.map((l) => [l.node, l.blob, ...l.deps].join("\t")).join("\n") + "\n")
    renameSync(temp, path.join(dir, "index"))
    rmSync(path.join(dir, `failed-${key}`), { force: true })
    return { ok: true, blob: target, ascii }
  } finally {
    // WEFT_SNAPSHOT_KEEP=1 keeps the bundle and its entry, for a bug report.
    if (env.WEFT_SNAPSHOT_KEEP === "1") process.stderr.write(`weft: snapshot work folder kept: ${work}\n`)
    else rmSync(work, { recursive: true, force: true })
  }
}

/** Whether a snapshot for `node` failed to build from what is there now. */
const failedBefore = (dir: string, key: string): boolean => {
  try {
    const [, deps = ""] = readFileSync(path.join(dir, `failed-${key}`), "utf8").split("\n")
    const when = mtimeMs(path.join(dir, `failed-${key}`))
    return deps.split("\t").every((dep) => mtimeMs(dep) < when)
  } catch {
    return false
  }
}

/**
 * After a `weft run` through bin/weft.js: builds the snapshot when the
 * snapshot would have taken this run, none is fresh for this Node, and it
 * pays (see above). Never fails the run: a snapshot is only ever a faster
 * start.
 */
export const maybeBuildSnapshot = async (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Promise<void> => {
  try {
    if (!takes(argv, process.stdout.isTTY === true, env)) return
    const dir = snapshotDir(env)
    const node = launcherNode(env)
    const key = nodeKey(node)
    const line = readIndex(dir).find((l) => l.node === node)
    if (line !== undefined && isFresh(line)) return
    if (failedBefore(dir, key)) return
    if (env.WEFT_SNAPSHOT !== "1") {
      const seen = path.join(dir, `seen-${key}`)
      if (!existsSync(seen)) {
        mkdirSync(dir, { recursive: true })
        writeFileSync(seen, "")
        return
      }
    }
    const built = await buildSnapshot(env).catch((error: unknown): BuildResult => ({ ok: false, reason: String(error) }))
    if (!built.ok) writeFileSync(path.join(dir, `failed-${key}`), `${built.reason.split("\n")[0]}\n${[path.join(weftRoot, "package.json"), weftRoot].join("\t")}\n`)
  } catch {
    // A read-only install, a full disk: runs start as they always did.
  }
}

