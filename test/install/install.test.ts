/**
 * weft as a dependency of someone else's project: packed with `npm pack`,
 * installed into a fresh project, type-checked by that project's `tsc` with
 * the settings `tsc --init` writes, and run there on Node 22 and Node 24
 * (each installed from npm as the `node` package), with a cached step, a
 * command, an isolated step and `weft watch`.
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "../..")
const version = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version
const npmFlags = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"]
let project = ""

/** A Node of `major` from npm, kept between runs of this test (the download is the slow part). */
const nodeBin = (major: number): string => {
  const dir = path.join(tmpdir(), "weft-install-test-node", String(major))
  const bin = path.join(dir, "node_modules", ".bin")
  const has = spawnSync(path.join(bin, "node"), ["--version"], { encoding: "utf8" })
  if (has.stdout?.startsWith(`v${major}.`)) return bin
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  // The `node` package fetches its binary in an install script, which npm runs only when allowed.
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `node${major}`, private: true, allowScripts: { node: true } }))
  execFileSync("npm", ["install", `node@${major}`, ...npmFlags], { cwd: dir, stdio: "pipe" })
  return bin
}

/** Runs `command` in the project with `bin` (a Node's folder) first on the PATH, as `npx` would find it. */
const inProject = (bin: string, command: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): SpawnSyncReturns<string> =>
  spawnSync(command, args, { cwd: project, encoding: "utf8", env: { ...process.env, ...env, PATH: `${bin}${path.delimiter}${path.join(project, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` } })

const events = (out: string): Array<Record<string, unknown>> => out.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
const ends = (out: string): Record<string, unknown> =>
  Object.fromEntries(events(out).filter((e) => e.type === "step:end").map((e) => [e.step, e.status]))

// A load hook that lists every TypeScript file Node loads from node_modules: an installed weft must load none.
const tsTracer = `import { registerHooks } from "node:module"
import { appendFileSync } from "node:fs"
registerHooks({ load(url, context, next) {
  if (url.includes("/node_modules/") && /\\.[cm]?tsx?$/.test(new URL(url).pathname)) appendFileSync(process.env.WEFT_TS_TRACE, url + "\\n")
  return next(url, context)
} })
`

beforeAll(() => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-install-"))
  execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: root, stdio: "pipe" })
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))!
  project = path.join(dir, "project")
  mkdirSync(project)
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
  const typescript = (JSON.parse(readFileSync(path.join(root, "node_modules", "typescript", "package.json"), "utf8")) as { version: string }).version
  execFileSync("npm", ["install", "-D", path.join(dir, tarball), `typescript@${typescript}`, "@types/node@22", ...npmFlags], { cwd: project, stdio: "pipe" })
  execFileSync(path.join(project, "node_modules", ".bin", "tsc"), ["--init"], { cwd: project, stdio: "pipe" })
  writeFileSync(path.join(project, "weft.ts"), [
    `/// <reference types="node" />`,
    `import { cmd, sh, workflow } from "weft"`,
    ``,
    `export default workflow("consumer")`,
    `  .step("version", { cache: true }, () => "1.2.3")`,
    `  .step("greet", { needs: ["version"] }, ({ version }) => sh\`echo hello \${version}\`)`,
    `  .step("count", cmd(["node", "-e", "console.log(6 * 7)"]))`,
    `  .step("isolated", { needs: ["version"], permissions: { isolate: true } }, ({ version }) => {`,
    `    console.log("isolated on " + process.version + " in " + process.pid)`,
    `    return version.length`,
    `  })`,
    ``
  ].join("\n"))
  writeFileSync(path.join(project, "trace-ts.mjs"), tsTracer)
  // The package carries its own bundled copy of Effect's runtime (scripts/build.ts): Effects,
  // Streams and Durations made with the project's own \`effect\` must run on it, interruption included.
  writeFileSync(path.join(project, "effects.ts"), [
    `import * as Duration from "effect/Duration"`,
    `import * as Effect from "effect/Effect"`,
    `import * as Schedule from "effect/Schedule"`,
    `import * as Stream from "effect/Stream"`,
    `import { workflow } from "weft"`,
    ``,
    `let attempts = 0`,
    `export default workflow("effects")`,
    `  .step("base", () => Effect.succeed(20).pipe(Effect.delay("5 millis")))`,
    `  .step("flaky", { needs: ["base"] }, ({ base }) =>`,
    `    Effect.suspend(() => (++attempts < 3 ? Effect.fail(new Error("not yet")) : Effect.succeed(base + attempts))).pipe(Effect.retry(Schedule.recurs(5))))`,
    `  .step("parts", () => Stream.make(1, 2, 3).pipe(Stream.map((n) => n * 2)))`,
    `  .step("hangs", { timeout: Duration.millis(200), optional: true }, () => Effect.never)`,
    `  .step("total", { needs: ["flaky", "parts"] }, ({ flaky, parts }) => Effect.sync(() => flaky + parts.reduce((a, b) => a + b, 0)))`,
    ``
  ].join("\n"))
}, 600_000)

describe("weft installed from its tarball", () => {
  it("type-checks with the project's default tsc settings, and its types are real", () => {
    const bin = path.join(project, "node_modules", ".bin")
    const checked = inProject(bin, "tsc", ["-p", "."])
    expect(checked.stdout + checked.stderr).toBe("")
    expect(checked.status).toBe(0)
    // Types that resolved to `any` would pass the check above too: a wrong use must fail.
    writeFileSync(path.join(project, "wrong.ts"), `import { workflow } from "weft"\nworkflow("w").step("a", () => 1).step("b", { needs: ["a"] }, ({ a }) => a.toUpperCase())\n`)
    try {
      const wrong = inProject(bin, "tsc", ["-p", "."])
      expect(wrong.stdout).toMatch(/wrong\.ts\(2,\d+\): error TS2339: Property 'toUpperCase' does not exist on type 'number'/)
    } finally {
      rmSync(path.join(project, "wrong.ts"))
    }
  })

  it("tells a user on Node 20 how to get Node 22, not about weft's own pinned Node", () => {
    const out = inProject(nodeBin(20), "weft", ["run"])
    expect(out.status).toBe(2)
    expect(out.stderr).toMatch(/^weft needs Node\.js 22 or newer; this is v20\./)
    expect(out.stderr).toMatch(/npm install -D node@22/)
    expect(out.stderr).not.toMatch(/pinned/)
  })

  for (const major of [22, 24]) {
    describe(`on Node ${major}`, () => {
      let bin = ""
      beforeAll(() => {
        bin = nodeBin(major)
        rmSync(path.join(project, ".weft"), { recursive: true, force: true })
      }, 600_000)

      it("runs a function step, a command, an isolated step and a cached step (a hit the second time), loading no TypeScript from node_modules", () => {
        const trace = path.join(project, `ts-loaded-${major}.txt`)
        const env = { NODE_OPTIONS: `--import=${path.join(project, "trace-ts.mjs")}`, WEFT_TS_TRACE: trace }
        expect(inProject(bin, "weft", ["--version"]).stdout).toBe(`weft ${version}\n`)
        const first = inProject(bin, "weft", ["run", "--reporter", "json"], env)
        expect(first.stderr).toBe("")
        expect(ends(first.stdout)).toEqual({ version: "succeeded", greet: "succeeded", count: "succeeded", isolated: "succeeded" })
        const logs = events(first.stdout).filter((e) => e.type === "step:log").map((e) => `${e.step}: ${e.text}`)
        expect(logs).toContain("greet: hello 1.2.3")
        expect(logs).toContain("count: 42")
        const isolated = logs.find((line) => line.startsWith("isolated: "))
        expect(isolated).toMatch(new RegExp(`^isolated: isolated on v${major}\\.\\d+\\.\\d+ in (\\d+)$`))
        expect(isolated).not.toContain(` in ${first.pid}`)
        const second = inProject(bin, "weft", ["run", "--reporter", "json"], env)
        expect(ends(second.stdout)).toMatchObject({ version: "cached", count: "succeeded" })
        expect(existsSync(trace) ? readFileSync(trace, "utf8") : "").toBe("")
      })

      it("runs Effects, Streams and Durations made with the project's own effect, timeouts interrupting them", () => {
        const out = inProject(bin, "weft", ["run", "effects.ts", "--no-cache", "--reporter", "json", "--output", "total"])
        // With --output, the value is what stdout carries and the events go to stderr.
        expect(ends(out.stderr)).toEqual({ base: "succeeded", flaky: "succeeded", parts: "succeeded", hangs: "failed", total: "succeeded" })
        expect(events(out.stderr).find((e) => e.type === "step:end" && e.step === "hangs")).toMatchObject({ error: "timed out after 200 ms" })
        // The value of total: 20 + 3 attempts, + 2 + 4 + 6.
        expect(out.stdout).toBe("35\n")
        expect(out.status).toBe(0)
      })

      it("verifies a workflow with weft/properties: a planted order dependence is found and named by tracing (the schedules do not report the pair again), its fix is not", () => {
        writeFileSync(path.join(project, "verify.mjs"), [
          `import { appendFileSync, readFileSync, writeFileSync } from "node:fs"`,
          `import { workflow } from "weft"`,
          `import { verify } from "weft/properties"`,
          `writeFileSync("log.txt", "")`,
          `const wf = (ordered) => workflow("v")`,
          `  .step("a", () => appendFileSync("log.txt", "a"))`,
          `  .step("b", { after: ordered ? ["a"] : [] }, () => appendFileSync("log.txt", "b"))`,
          `  .step("read", { after: ["a", "b"] }, () => readFileSync("log.txt", "utf8"))`,
          `const found = await verify(wf(false))`,
          `const fixed = await verify(wf(true), { runs: 10 })`,
          `console.log(JSON.stringify({ found: found.map((f) => [f.kind, f.pair]), fixed: fixed.length }))`,
          ``
        ].join("\n"))
        const out = inProject(bin, "node", ["verify.mjs"])
        expect(out.stderr).toBe("")
        expect(JSON.parse(out.stdout)).toEqual({ found: [["hazard", ["a", "b"]]], fixed: 0 })
      })

      it("starts `weft run` from a snapshot once one has been made, with the same result", () => {
        writeFileSync(path.join(project, "snap.ts"), [
          `import * as Effect from "effect/Effect"`,
          `import { workflow } from "weft"`,
          `export default workflow("snap")`,
          `  .step("where", () => (globalThis as Record<symbol, unknown>)[Symbol.for("weft.startedFromSnapshot")] === true)`,
          `  .step("value", () => Effect.succeed(41).pipe(Effect.map((n) => n + 1)))`,
          ``
        ].join("\n"))
        rmSync(path.join(project, "node_modules", "weft", ".snapshot"), { recursive: true, force: true })
        const where = () => inProject(bin, "weft", ["run", "snap.ts", "--no-cache", "--output", "where", "--reporter", "plain"])
        // The first run notes the snapshot would pay, the second makes it, the third starts from it.
        expect([where(), where(), where()].map((out) => [out.status, out.stdout])).toEqual([[0, "false\n"], [0, "false\n"], [0, "true\n"]])
        expect(inProject(bin, "weft", ["run", "snap.ts", "--no-cache", "--output", "value", "--reporter", "plain"]).stdout).toBe("42\n")
        // WEFT_SNAPSHOT=0: never.
        expect(inProject(bin, "weft", ["run", "snap.ts", "--no-cache", "--output", "where", "--reporter", "plain"], { WEFT_SNAPSHOT: "0" }).stdout).toBe("false\n")
      })

      it("starts `weft watch`, shows the first run end, and quits on q", async () => {
        const child = spawn("weft", ["watch", "--reporter", "plain"], {
          cwd: project,
          env: { ...process.env, PATH: `${bin}${path.delimiter}${path.join(project, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` },
          stdio: ["pipe", "pipe", "pipe"]
        })
        let out = ""
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString()
          if (out.includes("waiting for changes")) child.stdin.write("q\n")
        })
        child.stderr.on("data", (chunk: Buffer) => void (out += chunk.toString()))
        const code = await new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => child.kill("SIGKILL"), 90_000)
          child.on("close", (c) => {
            clearTimeout(timer)
            resolve(c)
          })
        })
        expect(out).toMatch(/✓ consumer succeeded in/)
        expect(out).toContain("waiting for changes")
        expect(code).toBe(0)
      })
    })
  }

  it("writes a starter with `weft init` that the project's tsc accepts and `weft run` runs", () => {
    const starter = path.join(project, "starter")
    mkdirSync(starter)
    writeFileSync(path.join(starter, "package.json"), JSON.stringify({ name: "starter", private: true, type: "module" }))
    writeFileSync(path.join(starter, "tsconfig.json"), readFileSync(path.join(project, "tsconfig.json")))
    const bin = nodeBin(24)
    const inStarter = (command: string, args: ReadonlyArray<string>) =>
      spawnSync(command, args, { cwd: starter, encoding: "utf8", env: { ...process.env, PATH: `${bin}${path.delimiter}${path.join(project, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` } })
    expect(inStarter("weft", ["init"]).status).toBe(0)
    const checked = inStarter("tsc", ["-p", "."])
    expect(checked.stdout + checked.stderr).toBe("")
    const ran = inStarter("weft", ["run", "--reporter", "plain"])
    expect(ran.stderr).toBe("")
    expect(ran.stdout).toMatch(/✓ starter succeeded in/)
  })
})
