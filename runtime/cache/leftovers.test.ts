/**
 * What is left lying around, by weft or by damage: temporary files of a
 * restore (issue 10, item 7) and a store whose blob was replaced by a
 * directory (item 8). Neither may become part of a cached result, and
 * neither may stop caching for good.
 */
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { sh } from "../../dsl/Command.ts"
import { workflow } from "../../dsl/Workflow.ts"
import type { Event } from "../Event.ts"
import { run } from "../Run.ts"
import { makeMemoryStore } from "./MemoryStore.ts"
import { restoreOutputs } from "./outputs.ts"

const project = () => mkdtempSync(path.join(tmpdir(), "weft-leftovers-"))

const runIn = async (root: string, wf: Parameters<typeof run>[0]) => {
  const events: Array<Event> = []
  const result = await run(wf, { cwd: root, onEvent: (e) => events.push(e) })
  const warnings = events.flatMap((e) => (e.type === "step:log" && e.text.startsWith("weft: cache") ? [e.text] : []))
  return { status: result.steps.gen!.status, warnings }
}

/** A pid no process has now: one that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ["-e", ""]).pid!

const gen = workflow("leftovers").step("gen", { cache: { outputs: ["out/**"] } }, sh`mkdir -p out && echo built > out/b.txt`)

describe("temporary files of a restore", () => {
  it("are never captured as outputs (the issue's repro: out/a.txt.weft-1-x is not restored)", async () => {
    const root = project()
    mkdirSync(path.join(root, "out"))
    writeFileSync(path.join(root, "out/a.txt.weft-1-x"), "half a restore")
    expect((await runIn(root, gen)).status).toBe("succeeded")
    rmSync(path.join(root, "out"), { recursive: true })
    expect((await runIn(root, gen)).status).toBe("cached")
    expect(readdirSync(path.join(root, "out"))).toEqual(["b.txt"])
  })

  it("left by a process that is gone are removed; a live process's are not touched", async () => {
    const root = project()
    mkdirSync(path.join(root, "out"))
    const stale = `out/b.txt.weft-${deadPid()}-k3j2h1`
    const live = `out/b.txt.weft-${process.pid}-a1b2c3`
    writeFileSync(path.join(root, stale), "old")
    writeFileSync(path.join(root, live), "being written")
    expect((await runIn(root, gen)).status).toBe("succeeded")
    expect(existsSync(path.join(root, stale))).toBe(false)
    expect(existsSync(path.join(root, live))).toBe(true)
  })

  it("are removed when the restore fails", async () => {
    const root = project()
    const store = makeMemoryStore()
    const bytes = Buffer.from("built\n")
    const digest = createHash("sha256").update(bytes).digest("hex")
    const source = path.join(root, "source.txt")
    writeFileSync(source, bytes)
    const file = { path: "out/b.txt", digest, size: bytes.length, mode: 0o644 }
    await store.put({ key: "ab".repeat(32), kind: "step", workflow: "w", name: "gen", value: new Uint8Array(), logs: [], files: [file], durationMs: 1, createdAt: 0 }, new Map([[digest, source]]))
    // The rename cannot replace a non-empty directory: the write is done, its last step fails.
    mkdirSync(path.join(root, "out/b.txt"), { recursive: true })
    writeFileSync(path.join(root, "out/b.txt/inside"), "")
    await expect(restoreOutputs(root, [file], ["out/**"], store, () => {})).rejects.toThrow()
    expect(readdirSync(path.join(root, "out"))).toEqual(["b.txt"])
  })
})

describe("a damaged store", () => {
  it("repairs a blob replaced by a directory: warned once, then cached again (the issue's repro)", async () => {
    const root = project()
    expect((await runIn(root, gen)).status).toBe("succeeded")
    const digest = createHash("sha256").update("built\n").digest("hex")
    const blob = path.join(root, ".weft/cache/blobs", digest.slice(0, 2), digest)
    unlinkSync(blob)
    mkdirSync(path.join(blob, "inner"), { recursive: true })
    rmSync(path.join(root, "out"), { recursive: true })
    const damaged = await runIn(root, gen)
    expect(damaged.status).toBe("succeeded")
    expect(damaged.warnings.join("\n")).not.toMatch(/EISDIR/)
    rmSync(path.join(root, "out"), { recursive: true })
    const repaired = await runIn(root, gen)
    expect(repaired.status).toBe("cached")
    expect(repaired.warnings).toEqual([])
    expect(readFileSync(path.join(root, "out/b.txt"), "utf8")).toBe("built\n")
  })
})
