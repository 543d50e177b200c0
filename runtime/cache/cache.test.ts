/**
 * The step cache through `run()`: what changes a key, what a hit does, and
 * what is never stored.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cmd, sh } from "../../dsl/Command.ts"
import { workflow, type Workflow } from "../../dsl/Workflow.ts"
import type { Event } from "../Event.ts"
import { run, type RunOptions } from "../Run.ts"

const project = () => {
  const root = mkdtempSync(path.join(tmpdir(), "weft-cache-"))
  writeFileSync(path.join(root, "input.txt"), "one")
  writeFileSync(path.join(root, "other.txt"), "x")
  return root
}

const runIn = async (root: string, wf: Workflow<any>, options: RunOptions = {}) => {
  const events: Array<Event> = []
  const result = await run(wf, { cwd: root, onEvent: (e) => events.push(e), ...options })
  const statusOf = (step: string) => result.steps[step]!.status
  return { result, events, statusOf }
}

describe("step cache", () => {
  it("a second run with nothing changed is a hit: no start, the output, replayed logs, the time saved", async () => {
    const root = project()
    let calls = 0
    const wf = workflow("w").step("build", { cache: true }, async (_, ctx) => {
      calls++
      ctx.log("compiling")
      await new Promise((r) => setTimeout(r, 20))
      return { files: 3, at: new Date(0), tags: new Set(["a"]) }
    })
    const first = await runIn(root, wf)
    expect(first.statusOf("build")).toBe("succeeded")
    const second = await runIn(root, wf)
    expect(calls).toBe(1)
    expect(second.statusOf("build")).toBe("cached")
    expect(second.result.outputs.build).toEqual({ files: 3, at: new Date(0), tags: new Set(["a"]) })
    expect(second.events.some((e) => e.type === "step:start")).toBe(false)
    expect(second.events).toContainEqual(expect.objectContaining({ type: "step:log", step: "build", text: "compiling", replayed: true }))
    const end = second.events.find((e) => e.type === "step:end")!
    expect(end).toMatchObject({ status: "cached" })
    expect((end as { savedMs?: number }).savedMs).toBeGreaterThanOrEqual(15)
  })

  it("an input file, an env value, a needed output or the command changes the key; unrelated changes do not", async () => {
    const root = project()
    const runs: Array<string> = []
    const make = (argv: Array<string>, upstream: string) =>
      workflow("keys")
        .step("up", () => upstream)
        .step("read", { needs: ["up"], cache: { inputs: ["input.txt"], env: ["WEFT_TEST_MODE"] } }, ({ up }) => {
          runs.push("read")
          return readFileSync(path.join(root, "input.txt"), "utf8") + up
        })
        .step("cmd", { cache: true }, cmd(argv))
    const statuses = async (wf: Workflow<any>) => {
      const { statusOf } = await runIn(root, wf)
      return [statusOf("read"), statusOf("cmd")]
    }
    const base = make(["true"], "u")
    expect(await statuses(base)).toEqual(["succeeded", "succeeded"])
    expect(await statuses(base)).toEqual(["cached", "cached"])
    writeFileSync(path.join(root, "other.txt"), "unrelated")
    process.env.WEFT_UNDECLARED = String(Math.random())
    expect(await statuses(base)).toEqual(["cached", "cached"])
    writeFileSync(path.join(root, "input.txt"), "two")
    expect(await statuses(base)).toEqual(["succeeded", "cached"])
    process.env.WEFT_TEST_MODE = "ci"
    expect(await statuses(base)).toEqual(["succeeded", "cached"])
    delete process.env.WEFT_TEST_MODE
    expect(await statuses(make(["true"], "changed upstream"))).toEqual(["succeeded", "cached"])
    expect(await statuses(make(["true", "--flag"], "changed upstream"))).toEqual(["cached", "succeeded"])
  })

  it("early cutoff: a dependency that reran with the same output leaves its dependents cached", async () => {
    const root = project()
    let upstreamRuns = 0
    let downstreamRuns = 0
    const wf = workflow("cutoff")
      .step("lint", { cache: { inputs: ["input.txt"] } }, () => {
        upstreamRuns++
        return "clean" // the same whatever the file says
      })
      .step("report", { needs: ["lint"], cache: true }, ({ lint }) => {
        downstreamRuns++
        return `lint: ${lint}`
      })
    await runIn(root, wf)
    writeFileSync(path.join(root, "input.txt"), "edited")
    const second = await runIn(root, wf)
    expect([upstreamRuns, downstreamRuns]).toEqual([2, 1])
    expect(second.statusOf("report")).toBe("cached")
  })

  it("a function's source is part of the key", async () => {
    const root = project()
    await runIn(root, workflow("src").step("f", { cache: true }, () => 1))
    const changed = await runIn(root, workflow("src").step("f", { cache: true }, () => 2))
    expect(changed.statusOf("f")).toBe("succeeded")
    expect(changed.result.outputs.f).toBe(2)
  })

  it("--force runs and overwrites; cache off neither reads nor writes", async () => {
    const root = project()
    let n = 0
    const wf = workflow("force").step("f", { cache: true }, () => ++n)
    await runIn(root, wf)
    const forced = await runIn(root, wf, { cache: { mode: "force" } })
    expect(forced.statusOf("f")).toBe("succeeded")
    expect((await runIn(root, wf)).result.outputs.f).toBe(2)
    const off = await runIn(root, wf, { cache: { mode: "off" } })
    expect(off.statusOf("f")).toBe("succeeded")
    expect((await runIn(root, wf)).result.outputs.f).toBe(2)
  })

  it("never stores a result whose input file changed while the step ran", async () => {
    const root = project()
    let n = 0
    const wf = workflow("race").step("read", { cache: { inputs: ["input.txt"] } }, async () => {
      n++
      const content = readFileSync(path.join(root, "input.txt"), "utf8")
      if (n === 1) writeFileSync(path.join(root, "input.txt"), "changed mid-run")
      return content
    })
    const first = await runIn(root, wf)
    expect(first.events).toContainEqual(expect.objectContaining({ type: "step:log", text: expect.stringContaining("an input file changed while the step ran (input.txt)") }))
    const second = await runIn(root, wf)
    expect(second.statusOf("read")).toBe("succeeded")
    expect(second.result.outputs.read).toBe("changed mid-run")
  })

  it("stores nothing for a failed or interrupted step", async () => {
    const root = project()
    let n = 0
    const wf = workflow("fail", { concurrency: 2 })
      .step("slow", { cache: true }, async (_, ctx) => {
        n++
        await new Promise((resolve, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("stopped"))))
      })
      .step("boom", { cache: true }, async () => {
        await new Promise((r) => setTimeout(r, 10))
        throw new Error("boom")
      })
    const first = await runIn(root, wf)
    expect([first.statusOf("slow"), first.statusOf("boom")]).toEqual(["cancelled", "failed"])
    const second = await runIn(root, wf)
    expect([second.statusOf("slow"), second.statusOf("boom")]).toEqual(["cancelled", "failed"])
    expect(n).toBe(2)
  })

  it("restores a command's declared outputs when they were deleted or edited", async () => {
    const root = project()
    const wf = workflow("outs").step("gen", { cache: { outputs: ["dist/**"] } }, sh`mkdir -p dist && echo built > dist/out.txt && echo compiled`)
    await runIn(root, wf)
    rmSync(path.join(root, "dist"), { recursive: true })
    const restored = await runIn(root, wf)
    expect(restored.statusOf("gen")).toBe("cached")
    expect(readFileSync(path.join(root, "dist/out.txt"), "utf8")).toBe("built\n")
    writeFileSync(path.join(root, "dist/out.txt"), "tampered")
    const again = await runIn(root, wf)
    expect(again.statusOf("gen")).toBe("cached")
    expect(readFileSync(path.join(root, "dist/out.txt"), "utf8")).toBe("built\n")
  })

  it("an output that cannot be stored: the step succeeds, says why, and runs again next time", async () => {
    const root = project()
    const wf = workflow("unstorable").step("client", { cache: true }, () => ({ connect: () => 1 }))
    const first = await runIn(root, wf)
    expect(first.statusOf("client")).toBe("succeeded")
    expect(first.events).toContainEqual(expect.objectContaining({ type: "step:log", stream: "stderr", text: expect.stringMatching(/step "client".*outputs\.connect is a function/) }))
    expect((await runIn(root, wf)).statusOf("client")).toBe("succeeded")
  })

  it("expires entries after their ttl", async () => {
    const root = project()
    // The store reads the wall clock: a ttl far above a run's few milliseconds,
    // so that the second run is a hit on a loaded machine too (40 ms was not).
    const wf = workflow("ttl").step("t", { cache: { ttl: 1500 } }, () => Date.now())
    await runIn(root, wf)
    expect((await runIn(root, wf)).statusOf("t")).toBe("cached")
    await new Promise((r) => setTimeout(r, 1600))
    expect((await runIn(root, wf)).statusOf("t")).toBe("succeeded")
  })

  it("moves the store with cacheDir", async () => {
    const root = project()
    const dir = mkdtempSync(path.join(tmpdir(), "weft-cachedir-"))
    await runIn(root, workflow("moved").step("a", { cache: true }, () => 1), { cacheDir: dir })
    expect(existsSync(path.join(dir, "entries"))).toBe(true)
    expect(existsSync(path.join(root, ".weft"))).toBe(false)
  })

  it("keeps the store under .weft/cache in the workflow's folder", async () => {
    const root = project()
    await runIn(root, workflow("where").step("a", { cache: true }, () => 1))
    expect(existsSync(path.join(root, ".weft", "cache", "entries"))).toBe(true)
  })
})
