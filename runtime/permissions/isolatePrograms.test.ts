/**
 * `permissions: { isolate: true, run: [programs] }`: the isolated child has no
 * permission to start processes; it asks weft, which resolves the program,
 * checks it against the list and starts it. Real child processes throughout.
 */
import { existsSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { processesWith, removeRunDirs, runFile } from "../../test/fixtures/isolate/runFile.ts"

afterAll(removeRunDirs)

describe("isolate: true with run: [programs]", () => {
  it("ChildProcess internals cannot start a shell: the child has no permission to start processes at all", async () => {
    const { dir, result } = await runFile(`
      .step("internals", { permissions: { isolate: true, run: ["git"], write: ["out"] } }, () => {
        const child = new childProcess.ChildProcess()
        child.spawn({ file: "/bin/sh", args: ["sh", "-c", "id > out/x"], envPairs: [], stdio: ["ignore", "ignore", "ignore"] })
        return new Promise((resolve) => setTimeout(resolve, 500))
      })`, { "out/.keep": "" })
    expect(result.steps.internals?.status).toBe("failed")
    expect(result.steps.internals?.error).toMatch(/^step "internals" may not start a process/)
    expect(existsSync(path.join(dir, "out", "x"))).toBe(false)
  })

  it("a program the step wrote is never run, by path or through a PATH it chose, even under an allowed name", async () => {
    const script = `writeFileSync("out/git", "#!/bin/sh\\nid > out/ran\\n"); chmodSync("out/git", 0o755)`
    const { dir, result } = await runFile(`
      .step("byPath", { permissions: { isolate: true, run: ["git"], write: ["out"] } }, () => {
        ${script}
        return execFileSync(new URL("out/git", import.meta.url).pathname).toString()
      })
      .step("byName", { permissions: { isolate: true, run: ["git"], write: ["out"] } }, () => {
        ${script}
        return execFileSync("git", ["--version"], { env: { PATH: new URL("out", import.meta.url).pathname + ":" + process.env.PATH } }).toString()
      })`,
      { "out/.keep": "" })
    expect(result.steps.byPath?.error).toBe(`step "byPath" may not run ${dir}/out/git: the step may write it (permissions.write), and a program the step can change is never allowed`)
    expect(result.steps.byName?.error).toBe(`step "byName" may not run ${dir}/out/git: the step may write it (permissions.write), and a program the step can change is never allowed`)
    expect(existsSync(path.join(dir, "out", "git"))).toBe(true)
    expect(existsSync(path.join(dir, "out", "ran"))).toBe(false)
  })

  it("runs a listed program through weft: execFileSync, spawnSync, execFile (promisified and with a callback) and spawn", async () => {
    const { result } = await runFile(`
      .step("sync", { permissions: { isolate: true, run: ["git"] } }, () => execFileSync("git", ["--version"], { encoding: "utf8" }))
      .step("spawnSync", { permissions: { isolate: true, run: ["git"] } }, () => {
        const r = childProcess.spawnSync("git", ["--bogus-option"])
        return { status: r.status, err: r.stderr.toString().length > 0 }
      })
      .step("promisified", { permissions: { isolate: true, run: ["git"] } }, async () => (await promisify(childProcess.execFile)("git", ["--version"])).stdout)
      .step("callback", { permissions: { isolate: true, run: ["git"] } }, () =>
        new Promise((resolve, reject) => childProcess.execFile("git", ["--version"], (error, stdout) => error ? reject(error) : resolve(stdout))))
      .step("spawn", { permissions: { isolate: true, run: ["git"] } }, () =>
        new Promise((resolve) => {
          const child = childProcess.spawn("git", ["--version"])
          let out = ""
          child.stdout.on("data", (chunk) => out += chunk)
          child.on("close", (code) => resolve({ code, out }))
        }))
      .step("failing", { permissions: { isolate: true, run: ["git"] } }, () => execFileSync("git", ["--bogus-option"]))`)
    expect(result.outputs.sync).toMatch(/^git version /)
    expect(result.outputs.spawnSync).toEqual({ status: 129, err: true })
    expect(result.outputs.promisified).toMatch(/^git version /)
    expect(result.outputs.callback).toMatch(/^git version /)
    expect(result.outputs.spawn).toMatchObject({ code: 0, out: expect.stringMatching(/^git version /) })
    expect(result.steps.failing?.status).toBe("failed")
    expect(result.steps.failing?.error).toMatch(/Command failed: git --bogus-option/)
  })

  it("a timeout tears down a program weft started for the step, blocking or not", async () => {
    const marker = `61.${String(process.pid).padStart(7, "0")}${Date.now() % 1000}`
    const { result } = await runFile(`
      .step("blocking", { timeout: "2 seconds", permissions: { isolate: true, run: ["sleep"] } }, () => execFileSync("sleep", ["${marker}1"]))
      .step("async", { timeout: "2 seconds", permissions: { isolate: true, run: ["sleep"] } }, () =>
        new Promise((resolve) => childProcess.spawn("sleep", ["${marker}2"]).on("close", resolve)))`)
    expect(result.steps.blocking?.error).toBe("timed out after 2 s")
    expect(result.steps.async?.error).toBe("timed out after 2 s")
    expect(processesWith(marker)).toEqual([])
  }, 30_000)
})
