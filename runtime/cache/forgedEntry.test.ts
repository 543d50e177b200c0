/**
 * A cache entry is trusted for its checksum, not for where it says its files
 * go: one forged with a valid checksum (anyone who can write the store can
 * make one) must not write outside the step's declared `cache.outputs`, nor
 * restore setuid, setgid or sticky bits.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { sh } from "../../dsl/Command.ts"
import { workflow } from "../../dsl/Workflow.ts"
import type { Event } from "../Event.ts"
import { run } from "../Run.ts"
import type { StoredFile } from "./CacheStore.ts"
import { makeFileStore } from "./FileStore.ts"

const wf = workflow("outs").step("gen", { cache: { outputs: ["dist/**"] } }, sh`mkdir -p dist && echo built > dist/out.txt`)

const runIn = async (root: string) => {
  const events: Array<Event> = []
  const result = await run(wf, { cwd: root, onEvent: (e) => events.push(e) })
  const warnings = events.flatMap((e) => (e.type === "step:log" && e.stream === "stderr" ? [e.text] : []))
  return { status: result.steps.gen!.status, warnings }
}

/** A project whose `gen` step has run once, and its entry rewritten by `forge` through the store (so its checksum is valid). */
const forged = async (forge: (files: ReadonlyArray<StoredFile>, blob: (text: string) => { digest: string; size: number }) => Array<StoredFile>) => {
  const root = mkdtempSync(path.join(tmpdir(), "weft-forged-"))
  writeFileSync(path.join(root, "wf.yaml"), "original\n")
  expect((await runIn(root)).status).toBe("succeeded")
  const store = makeFileStore(path.join(root, ".weft", "cache"))
  const [info] = await store.list()
  const entry = (await store.get(info!.key))!
  const sources = mkdtempSync(path.join(tmpdir(), "weft-forged-blobs-"))
  const blobs = new Map<string, string>()
  const blob = (text: string) => {
    const digest = createHash("sha256").update(text).digest("hex")
    const file = path.join(sources, digest)
    writeFileSync(file, text)
    blobs.set(digest, file)
    return { digest, size: Buffer.byteLength(text) }
  }
  await store.put({ ...entry, files: forge(entry.files, blob) }, blobs)
  rmSync(path.join(root, "dist"), { recursive: true })
  return root
}

describe("restoring a forged cache entry", () => {
  it.for([
    ["wf.yaml", 0o644],
    [".git/hooks/pre-commit", 0o755],
    [".weft/history/runs.ndjson", 0o644]
  ] as const)("never writes %s, which the step did not declare: the entry is a miss, the step runs, the warning names the path", async ([target, mode]) => {
    const root = await forged((files, blob) => [...files, { path: target, ...blob("pwned\n"), mode }])
    const before = existsSync(path.join(root, target)) ? readFileSync(path.join(root, target), "utf8") : undefined
    const { status, warnings } = await runIn(root)
    expect(status).toBe("succeeded")
    expect(existsSync(path.join(root, target)) ? readFileSync(path.join(root, target), "utf8") : undefined).toBe(before)
    expect(readFileSync(path.join(root, "wf.yaml"), "utf8")).toBe("original\n")
    expect(warnings).toContainEqual(expect.stringContaining(`"${target}"`))
  })

  it("refuses an undeclared path even when the file on disk already has the forged content", async () => {
    const root = await forged((files, blob) => [...files, { path: "wf.yaml", ...blob("original\n"), mode: 0o644 }])
    writeFileSync(path.join(root, "dist.keep"), "")
    const { status, warnings } = await runIn(root)
    expect(status).toBe("succeeded")
    expect(warnings).toContainEqual(expect.stringContaining(`"wf.yaml"`))
  })

  it.for([["4777"], ["2755"], ["1777"], ["6777"]])("restores a stored mode of %s without setuid, setgid or sticky bits, under the umask", async ([octal]) => {
    const stored = parseInt(octal!, 8)
    const root = await forged((files) => files.map((f) => ({ ...f, mode: stored })))
    const { status } = await runIn(root)
    expect(status).toBe("cached")
    const mode = statSync(path.join(root, "dist", "out.txt")).mode & 0o7777
    expect(mode).toBe(stored & 0o777 & ~process.umask())
    // What was restored is what the entry means from now on: the next run is a hit without writing again.
    const ino = statSync(path.join(root, "dist", "out.txt")).ino
    expect((await runIn(root)).status).toBe("cached")
    expect(statSync(path.join(root, "dist", "out.txt")).ino).toBe(ino)
  })
})
