/**
 * `weft run --remote-cache` end to end: two project folders sharing a real
 * turborepo-remote-cache server through the real command, and the flags'
 * checks.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { EventOf } from "../runtime/Event.ts"
import { isRunning, startRemoteCacheServer, type RemoteCacheServer } from "../test/fixtures/remoteCacheServer.ts"
import { eventsOf, removeTempDirs, repoRoot, tempDir, weft } from "../test/fixtures/cli/harness.ts"

const token = "cli-remote-token-8e2a"
let server: RemoteCacheServer

beforeAll(async () => {
  server = await startRemoteCacheServer({ token })
})
afterAll(async () => {
  await server?.stop()
  removeTempDirs()
  expect(server === undefined || isRunning(server.pid)).toBe(false)
})

/** A checkout of one project: a command step writing an output file, and a function step after it. */
const checkout = (): string => {
  const dir = tempDir("weft-remote-cli-")
  writeFileSync(path.join(dir, "input.txt"), "v1")
  writeFileSync(path.join(dir, "weft.ts"), `
import { appendFileSync } from "node:fs"
import * as path from "node:path"
import { workflow, sh } from ${JSON.stringify(path.join(repoRoot, "dsl/index.ts"))}

export default workflow("remote-cli")
  .step("build", { cache: { inputs: ["input.txt"], outputs: ["out/**"] } }, sh\`mkdir -p out && cp input.txt out/built.txt && echo ran >> ran.log\`)
  .step("report", { needs: ["build"], cache: true }, () => (appendFileSync(path.join(import.meta.dirname, "ran.log"), "ran\\n"), { nonce: Math.random() }))
`)
  return dir
}

const runIn = async (dir: string, ...flags: Array<string>) => {
  const r = await weft(["run", "--reporter", "json", "--output", "report", ...flags], { cwd: dir, env: { WEFT_REMOTE_CACHE_TOKEN: token } })
  expect(r.code, r.stderr).toBe(0)
  const events = eventsOf(r.stderr)
  const ends = events.filter((e): e is EventOf<"step:end"> => e.type === "step:end")
  return { value: r.stdout, statuses: Object.fromEntries(ends.map((e) => [e.step, e.status])), events, all: r.stdout + r.stderr }
}

describe("weft run --remote-cache", () => {
  it("a second checkout takes every step from the remote: nothing runs, the same value, the output file restored", async () => {
    const a = checkout()
    const b = checkout()
    const flags = ["--remote-cache", server.url, "--remote-cache-team", "cli"]
    const first = await runIn(a, ...flags)
    expect(first.statuses).toEqual({ build: "succeeded", report: "succeeded" })
    const second = await runIn(b, ...flags)
    expect(second.statuses).toEqual({ build: "cached", report: "cached" })
    expect(second.value).toBe(first.value)
    expect(readFileSync(path.join(b, "out/built.txt"), "utf8")).toBe("v1")
    expect(existsSync(path.join(b, "ran.log"))).toBe(false)
    expect(second.events.filter((e) => e.type === "run:warning")).toEqual([])
    expect(first.all + second.all).not.toContain(token)
  })

  it("refuses a remote cache that is not an http(s) URL, and --remote-cache-read-only without a remote, in one clear line", async () => {
    const dir = checkout()
    const bad = await weft(["run", "--remote-cache", "ftp://cache"], { cwd: dir })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--remote-cache: "ftp:\/\/cache" is not an http\(s\) URL/)
    const lone = await weft(["run", "--remote-cache-read-only"], { cwd: dir, env: { WEFT_REMOTE_CACHE: "" } })
    expect(lone.code).toBe(2)
    expect(lone.stderr).toMatch(/--remote-cache-read-only needs a remote cache: give --remote-cache URL or set WEFT_REMOTE_CACHE/)
    expect(bad.stderr + lone.stderr).not.toMatch(/^\s+at /m)
  })

  it("lists the flags in weft run --help", async () => {
    const help = await weft(["run", "--help"])
    for (const flag of ["--remote-cache URL", "--remote-cache-team TEAM", "--remote-cache-read-only"]) expect(help.stdout).toContain(flag)
  })
})
