/**
 * `weft run` from the start-up snapshot (boot.ts, build.ts), through the
 * launcher users run (bin/weft): the same run bin/weft.js does, with the
 * workflow's own `weft` and `effect` imports given the snapshot's copies,
 * the environment read when the run starts (not when the snapshot was
 * made), Ctrl-C tearing the steps down, and a stale snapshot or a workflow
 * it cannot hold going to bin/weft.js.
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { alive, eventsOf, repoRoot, waitFor } from "../../test/fixtures/cli/harness.ts"
import { buildSnapshot } from "./build.ts"

const launcher = path.join(repoRoot, "bin", "weft")
const snapshots = mkdtempSync(path.join(tmpdir(), "weft-snapshot-test-"))
const project = mkdtempSync(path.join(repoRoot, "tmp-snapshot-"))
// The launcher finds `node` on the PATH: this Node, as the snapshot's is.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`, WEFT_SNAPSHOT: "", WEFT_SNAPSHOT_DIR: snapshots, WEFT_NODE: process.execPath, NO_COLOR: "1" }

const fromSnapshot = `globalThis[Symbol.for("weft.startedFromSnapshot")] === true`

const run = (args: ReadonlyArray<string>, extra: Record<string, string> = {}) =>
  spawnSync(launcher, ["run", ...args], { cwd: project, env: { ...env, ...extra }, encoding: "utf8" })

beforeAll(async () => {
  writeFileSync(path.join(project, "spec.json"), JSON.stringify({ name: "spec", steps: [{ id: "a", run: ["true"] }, { id: "b", run: ["sh", "-c", "echo b"], after: ["a"] }] }))
  writeFileSync(path.join(project, "shared.ts"), [
    `import * as Effect from "effect/Effect"`,
    `import * as Duration from "effect/Duration"`,
    // Held in the snapshot but initialised only when imported (build.ts, \`deferred\`).
    `import * as Schema from "effect/Schema"`,
    `import { workflow } from "weft"`,
    // Cached: its key needs the step's digest, whose tools weft looks up (acorn's version) as it runs.
    `export default workflow("shared", { cache: true })`,
    `  .step("where", () => ${fromSnapshot})`,
    // The workflow's Effect is the snapshot's own module, not a second copy from disk.
    `  .step("shared", () => import.meta.resolve("effect/Effect").startsWith("weft-snapshot:") && import.meta.resolve("effect/Schema").startsWith("weft-snapshot:"))`,
    `  .step("schema", () => Schema.decodeUnknownSync(Schema.Struct({ n: Schema.Number }))({ n: 2 }).n)`,
    // Isolation decodes its child's messages with Schema, initialised when first used.
    `  .step("isolated", { permissions: { isolate: true } }, () => 7)`,
    `  .step("effect", () => Effect.succeed(20).pipe(Effect.delay("5 millis"), Effect.map((n) => n + 1)))`,
    `  .step("slow", { timeout: Duration.millis(100), optional: true }, () => Effect.never)`,
    `  .step("dir", () => process.env.WEFT_DIR ?? "none")`,
    `  .step("says", () => { console.log("hello from " + process.pid); return 1 })`,
    // A direct write, which weft takes from the streams of this process (runtime/internal/writeCapture.ts).
    `  .step("writes", () => { process.stdout.write("written by " + process.pid + "\\n"); return 1 })`,
    ``
  ].join("\n"))
  const built = await buildSnapshot(env)
  // One non-ASCII character (a comment's "→") made V8 hold the whole bundle's text at two bytes a character: 3 MB more to read at every start.
  expect(built).toMatchObject({ ok: true, ascii: true })
}, 120_000)

afterAll(() => {
  rmSync(snapshots, { recursive: true, force: true })
  rmSync(project, { recursive: true, force: true })
})

describe("weft run from the start-up snapshot", () => {
  it("runs a workflow whose weft and Effect imports are the snapshot's own, with the environment of this run", () => {
    const weftDir = path.join(project, "elsewhere")
    const out = run(["shared.ts", "--reporter", "json", "--no-cache", "--output", "where"], { WEFT_DIR: weftDir })
    expect(out.stderr.split("\n").filter((line) => !line.startsWith("{"))).toEqual([""])
    expect(out.stdout).toBe("true\n")
    const ends = Object.fromEntries(eventsOf(out.stderr).filter((e) => e.type === "step:end").map((e) => [e.step, e.status]))
    expect(ends).toEqual({ where: "succeeded", shared: "succeeded", effect: "succeeded", slow: "failed", dir: "succeeded", says: "succeeded", writes: "succeeded", schema: "succeeded", isolated: "succeeded" })
    expect(run(["shared.ts", "--no-cache", "--output", "shared", "--reporter", "plain"]).stdout).toBe("true\n")
    // A step's console output is captured as the step's, by this process's streams.
    expect(eventsOf(out.stderr).filter((e) => e.type === "step:log").map((e) => [e.step, e.text])).toEqual([["says", `hello from ${out.pid}`], ["writes", `written by ${out.pid}`]])
    expect(readFileSync(path.join(weftDir, "history", readdirOne(path.join(weftDir, "history"))), "utf8")).toContain('"workflow":"shared"')
    const dir = run(["shared.ts", "--no-cache", "--output", "dir"], { WEFT_DIR: weftDir, WEFT_PROBE: "x" })
    expect(dir.stdout).toBe(`${weftDir}\n`)
  })

  it("gives a spec workflow the same events as bin/weft.js does", () => {
    const shape = (stdout: string) => eventsOf(stdout).map((e) => ({ type: e.type, step: "step" in e ? e.step : undefined, status: "status" in e ? e.status : undefined }))
    const fast = run(["spec.json", "--reporter", "json"])
    const regular = spawnSync(process.execPath, [path.join(repoRoot, "bin", "weft.js"), "run", "spec.json", "--reporter", "json"], { cwd: project, env, encoding: "utf8" })
    expect(fast.status).toBe(0)
    expect(shape(fast.stdout)).toEqual(shape(regular.stdout))
  })

  it("gives each run its own module-level values, not those of the process that made the snapshot", () => {
    // weft's process-tree ids carry a per-process nonce (runtime/internal/processTree.ts): two runs must differ.
    writeFileSync(path.join(project, "tree.json"), JSON.stringify({ name: "tree", steps: [{ id: "t", run: ["sh", "-c", "echo $WEFT_PROCESS_TREE"] }] }))
    const nonce = () => {
      const log = eventsOf(run(["tree.json", "--reporter", "json"]).stdout).find((e) => e.type === "step:log")
      return String(log !== undefined && "text" in log ? log.text : "").split(".")[1]
    }
    const [first, second] = [nonce(), nonce()]
    expect(first).toMatch(/^[0-9a-f]{8}$/)
    expect(second).not.toBe(first)
  })

  it("leaves a workflow that imports a module the snapshot does not hold to bin/weft.js, before any of it runs", () => {
    writeFileSync(path.join(project, "other.ts"), [
      // Effect's HTTP modules: nothing of weft's imports them, so the snapshot holds none.
      `import * as Http from "effect/http"`,
      `import { workflow } from "weft"`,
      `console.error("evaluated once")`,
      `export default workflow("other").step("where", () => ${fromSnapshot} || typeof Http)`,
      ``
    ].join("\n"))
    const out = run(["other.ts", "--no-cache", "--output", "where", "--reporter", "plain"])
    expect(out.status).toBe(0)
    expect(out.stdout).toBe("object\n")
    expect(out.stderr.match(/evaluated once/g)).toHaveLength(1)
  })

  it("is not used once a file it was made from is newer", () => {
    const file = path.join(repoRoot, "runtime", "importModule.ts")
    const before = run(["shared.ts", "--no-cache", "--output", "where", "--reporter", "plain"])
    expect(before.stdout).toBe("true\n")
    const later = new Date(Date.now() + 5_000)
    const stat = statSync(file)
    try {
      utimesSync(file, later, later)
      const after = run(["shared.ts", "--no-cache", "--output", "where", "--reporter", "plain"])
      expect(after.stdout).toBe("false\n")
    } finally {
      utimesSync(file, stat.atime, stat.mtime)
    }
  })

  it("is reached through npm's link and through any other link, and says so when there is no node", () => {
    const links = mkdtempSync(path.join(project, "links-"))
    mkdirSync(path.join(links, "node_modules", ".bin"), { recursive: true })
    mkdirSync(path.join(links, "global"))
    symlinkSync(repoRoot, path.join(links, "node_modules", "weft"))
    // npm's layout, which the launcher resolves without readlink; and a global bin's absolute link, which needs it.
    symlinkSync(path.join("..", "weft", "bin", "weft"), path.join(links, "node_modules", ".bin", "weft"))
    symlinkSync(launcher, path.join(links, "global", "weft"))
    for (const link of [path.join(links, "node_modules", ".bin", "weft"), path.join(links, "global", "weft")]) {
      // From the snapshot, and (WEFT_SNAPSHOT=0) from bin/weft.js beside the launcher the link leads to.
      for (const [snapshot, where] of [["", "true\n"], ["0", "false\n"]] as const) {
        const out = spawnSync(link, ["run", "shared.ts", "--no-cache", "--output", "where", "--reporter", "plain"], { cwd: project, env: { ...env, WEFT_SNAPSHOT: snapshot }, encoding: "utf8" })
        expect({ link, snapshot, stdout: out.stdout }).toEqual({ link, snapshot, stdout: where })
      }
    }
    const none = spawnSync(launcher, ["run", "spec.json"], { cwd: project, env: { ...env, PATH: path.join(links, "empty") }, encoding: "utf8" })
    expect(none.status).toBe(127)
    expect(none.stderr).toContain("weft: no node on the PATH")
  })

  it("Ctrl-C tears the running command down and exits 130", async () => {
    writeFileSync(path.join(project, "long.json"), JSON.stringify({ name: "long", steps: [{ id: "sleep", run: ["sh", "-c", "echo $$ > pid; exec sleep 30"] }] }))
    const child = spawn(launcher, ["run", "long.json", "--reporter", "json"], { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()))
    await waitFor(() => out.includes('"step:start"'), 30_000, "the step to start")
    await waitFor(() => { try { return readFileSync(path.join(project, "pid"), "utf8").trim() !== "" } catch { return false } }, 30_000, "the pid file")
    const pid = Number(readFileSync(path.join(project, "pid"), "utf8"))
    child.kill("SIGINT")
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)))
    expect(code).toBe(130)
    expect(alive(pid)).toBe(false)
    expect(out).toContain('"status":"cancelled"')
  })
})

const readdirOne = (dir: string): string => readdirSync(dir).find((name) => name.endsWith(".json"))!
