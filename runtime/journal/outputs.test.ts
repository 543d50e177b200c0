/**
 * The journal stage and a step's declared output files: recorded with their
 * digests, checked before a replay, restored from the cache or run again.
 * (Through the CLI after a real SIGKILL: `cli/resumeVerify.test.ts`.)
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { afterEach, describe, expect, it } from "vitest"
import type { StepRun } from "../Pipeline.ts"
import { makeFileHasher } from "../cache/fileHashes.ts"
import { makeMemoryStore } from "../cache/MemoryStore.ts"
import { serializeValue } from "../cache/serialize.ts"
import type { CacheStore } from "../cache/CacheStore.ts"
import type { JournalRecord } from "./Journal.ts"
import type { JournalOutputs } from "./outputs.ts"
import { journaling } from "./stage.ts"

const dirs: Array<string> = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true })
})

type Reported = Parameters<StepRun["report"]>[0]

/** A workflow folder whose step `a` declares `out/a.txt`, and the stage's parts around it. */
const setup = async (store?: CacheStore) => {
  const root = await fs.mkdtemp(path.join(tmpdir(), "weft-journal-outputs-"))
  dirs.push(root)
  const reported: Array<Reported> = []
  let hashers = 0
  const step = { id: "a", cached: undefined, features: {}, report: (u: Reported) => void reported.push(u) } as unknown as StepRun
  const outputs: JournalOutputs = {
    root,
    globsOf: () => ["out/a.txt"],
    hasher: () => {
      hashers++
      return makeFileHasher(path.join(root, ".weft", "file-hashes.json"))
    },
    storeFor: store === undefined ? undefined : () => store
  }
  const records: Array<JournalRecord> = []
  const stage = (resumed?: JournalRecord) =>
    journaling({
      writer: { run: "r2", record: (r) => void records.push(r), close: async () => {}, discard: async () => {} },
      resumed: resumed === undefined ? undefined : { run: "r1", records: new Map([["a", resumed]]) },
      listen: () => {},
      keyOf: async () => "k",
      now: () => 0,
      outputs
    })
  let ran = 0
  const body = Effect.promise(async () => {
    ran++
    await fs.mkdir(path.join(root, "out"), { recursive: true })
    await fs.writeFile(path.join(root, "out", "a.txt"), "made by a\n")
    return "ALICE"
  })
  const said = () => reported.flatMap((u) => (u.type === "step:log" ? [u.text] : []))
  return { root, step, stage, body, records, said, ran: () => ran, hashers: () => hashers }
}

const digest = createHash("sha256").update("made by a\n").digest("hex")

describe("journaling declared outputs", () => {
  it("records each declared output's path, digest, size and mode when the step ends", async () => {
    const { step, stage, body, records } = await setup()
    expect(await Effect.runPromise(stage()(step, body))).toBe("ALICE")
    expect(records[0]!.outputs).toEqual([{ path: "out/a.txt", digest, size: 10, mode: expect.any(Number) }])
  })

  it("records a cache hit's files and value as the hit read and checked them, hashing nothing again", async () => {
    const { root, step, stage, records, hashers } = await setup()
    await fs.mkdir(path.join(root, "out"))
    await fs.writeFile(path.join(root, "out", "a.txt"), "made by a\n")
    const checked = [{ path: "out/a.txt", digest, size: 10, mode: 0o640 }]
    const valueBytes = serializeValue(["ALICE"], { step: "a" })
    const value = ["ALICE"]
    const hit = Effect.sync(() => {
      step.cached = { savedMs: 5, stored: { value, valueBytes, outputs: checked } }
      return value
    })
    expect(await Effect.runPromise(stage()(step, hit))).toBe(value)
    expect(records[0]!.outputs).toEqual(checked)
    expect(records[0]!.value).toBe(Buffer.from(valueBytes).toString("base64"))
    expect(records[0]!.durationMs).toBe(5)
    expect(hashers()).toBe(0)
  })

  it("hashes the outputs of a step whose value is not the hit's (a stage inside gave another)", async () => {
    const { root, step, stage, records, hashers } = await setup()
    await fs.mkdir(path.join(root, "out"))
    await fs.writeFile(path.join(root, "out", "a.txt"), "made by a\n")
    const other = Effect.sync(() => {
      step.cached = { savedMs: 5, stored: { value: "stale", valueBytes: serializeValue("stale", { step: "a" }), outputs: [] } }
      return "ALICE"
    })
    expect(await Effect.runPromise(stage()(step, other))).toBe("ALICE")
    expect(records[0]!.outputs).toEqual([{ path: "out/a.txt", digest, size: 10, mode: expect.any(Number) }])
    expect(records[0]!.value).toBe(Buffer.from(serializeValue("ALICE", { step: "a" })).toString("base64"))
    expect(hashers()).toBe(1)
  })

  it("replays a step whose outputs are on disk as recorded; runs one whose file was edited again, saying so", async () => {
    const first = await setup()
    await Effect.runPromise(first.stage()(first.step, first.body))
    const record = first.records[0]!
    const again = await setup()
    await fs.mkdir(path.join(again.root, "out"))
    await fs.writeFile(path.join(again.root, "out", "a.txt"), "made by a\n")
    await fs.chmod(path.join(again.root, "out", "a.txt"), record.outputs![0]!.mode)
    expect(await Effect.runPromise(again.stage(record)(again.step, again.body))).toBe("ALICE")
    expect(again.ran()).toBe(0)

    await fs.writeFile(path.join(again.root, "out", "a.txt"), "edited!!!\n")
    expect(await Effect.runPromise(again.stage(record)(again.step, again.body))).toBe("ALICE")
    expect(again.ran()).toBe(1)
    expect(again.said()).toContain("weft: journal: out/a.txt was changed since run r1 recorded a; running a again")
    expect(await fs.readFile(path.join(again.root, "out", "a.txt"), "utf8")).toBe("made by a\n")
  })

  it("restores a deleted output from the cache store by digest, and replays", async () => {
    const store = makeMemoryStore()
    const { root, step, stage, body, records, said, ran } = await setup(store)
    await Effect.runPromise(stage()(step, body))
    const record = records[0]!
    await store.put(
      { key: "abcd", kind: "step", workflow: "w", name: "a", value: serializeValue("ALICE", { step: "a" }), logs: [], files: record.outputs!, durationMs: 1, createdAt: 0 },
      new Map([[digest, path.join(root, "out", "a.txt")]])
    )
    await fs.rm(path.join(root, "out", "a.txt"))
    expect(await Effect.runPromise(stage(record)(step, body))).toBe("ALICE")
    expect(ran()).toBe(1)
    expect(said()).toContain("weft: journal: out/a.txt was deleted since run r1 recorded a; restored it from the cache")
    expect(await fs.readFile(path.join(root, "out", "a.txt"), "utf8")).toBe("made by a\n")
  })

  it("runs again a step that declares outputs its record does not list (nothing to check them against)", async () => {
    const { step, stage, body, said, ran } = await setup()
    const value = Buffer.from(serializeValue("ALICE", { step: "a" })).toString("base64")
    expect(await Effect.runPromise(stage({ step: "a", key: "k", value, durationMs: 1 })(step, body))).toBe("ALICE")
    expect(ran()).toBe(1)
    expect(said()).toContain("weft: journal: a declares output files its record does not list; running it again")
  })

  it("never restores a recorded file the step does not declare: the step runs again and the path is named", async () => {
    const store = makeMemoryStore()
    const { root, step, stage, body, records, said, ran } = await setup(store)
    await Effect.runPromise(stage()(step, body))
    const record = records[0]!
    const hook = path.join(root, "hook")
    await fs.writeFile(hook, "made by a\n")
    const forged = { ...record, outputs: [...record.outputs!, { path: ".git/hooks/pre-commit", digest, size: 10, mode: 0o755 }] }
    await store.put(
      { key: "abcd", kind: "step", workflow: "w", name: "a", value: serializeValue("ALICE", { step: "a" }), logs: [], files: forged.outputs, durationMs: 1, createdAt: 0 },
      new Map([[digest, hook]])
    )
    expect(await Effect.runPromise(stage(forged)(step, body))).toBe("ALICE")
    expect(ran()).toBe(2)
    await expect(fs.stat(path.join(root, ".git"))).rejects.toThrow(/ENOENT/)
    expect(said().join("\n")).toContain(`".git/hooks/pre-commit" is not one of the step's declared outputs`)
  })
})
