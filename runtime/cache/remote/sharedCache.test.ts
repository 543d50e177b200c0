/**
 * The shared cache through `run()`: two project folders ("machines", each
 * with its own local store) sharing one real turborepo-remote-cache server.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { sh } from "../../../dsl/Command.ts"
import { workflow, type Workflow } from "../../../dsl/Workflow.ts"
import type { Event } from "../../Event.ts"
import { memo } from "../../memo.ts"
import { run, type RunOptions } from "../../Run.ts"
import { isRunning, startRemoteCacheServer, type RemoteCacheServer } from "../../../test/fixtures/remoteCacheServer.ts"
import type { RemoteCacheSettings } from "./RemoteCache.ts"

const token = "sekrit-token-4f1d9c"
let server: RemoteCacheServer
const roots: Array<string> = []
let teams = 0

beforeAll(async () => {
  server = await startRemoteCacheServer({ token })
})
afterAll(async () => {
  await server?.stop()
  for (const root of roots) rmSync(root, { recursive: true, force: true })
  expect(server === undefined || isRunning(server.pid)).toBe(false)
})

/** A project folder, as checked out on one machine. */
const machine = () => {
  const root = mkdtempSync(path.join(tmpdir(), "weft-machine-"))
  roots.push(root)
  writeFileSync(path.join(root, "input.txt"), "sources")
  return root
}

const runOn = async (root: string, wf: Workflow<any>, remote: RemoteCacheSettings | false, options: RunOptions = {}) => {
  const events: Array<Event> = []
  const result = await run(wf, { cwd: root, onEvent: (e) => events.push(e), cache: { remote }, ...options })
  return { result, events, warnings: events.filter((e) => e.type === "run:warning").map((e) => (e as { message: string }).message) }
}

const settings = (team: string, extra: Partial<RemoteCacheSettings> = {}): RemoteCacheSettings => ({ url: server.url, token, team, ...extra })
const artifactsOf = (team: string) => (existsSync(path.join(server.storage, team)) ? readdirSync(path.join(server.storage, team)) : [])

describe("the shared cache through run()", () => {
  it("uploads in the background: a dependent starts while its need's upload is still on its way, and the run returns once it has ended", async () => {
    // A remote that finds nothing at once and holds every upload until told.
    const held: Array<() => void> = []
    let released = 0
    let answered = 0
    const slow = createServer((request, response) => {
      if (request.method !== "PUT") return void response.writeHead(404).end()
      request.resume()
      held.push(() => {
        released++
        // Answered a while after release: the run must wait for it.
        setTimeout(() => {
          answered++
          response.writeHead(200, { "content-type": "application/json" }).end("{}")
        }, 300)
      })
    })
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve))
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`
      const release = () => held.splice(0).forEach((answer) => answer())
      // Were the step's upload awaited, b could not start before it is answered: let it be answered after a while, and see b start after.
      const fallback = setTimeout(release, 3_000)
      let answeredWhenBRan = -1
      const wf = workflow("background")
        .step("a", { cache: true }, async () => 1)
        .step("b", { needs: ["a"] }, async () => {
          // a's upload is on its way (it may not have reached the server yet)…
          for (let waited = 0; held.length + released === 0 && waited < 20_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5))
          answeredWhenBRan = released
          // …and is answered only now.
          release()
          return 2
        })
      const { result, warnings } = await runOn(machine(), wf, { url, token })
      clearTimeout(fallback)
      expect(result.status).toBe("succeeded")
      expect(answeredWhenBRan).toBe(0)
      // The run returned once the upload had ended.
      expect(answered).toBe(1)
      expect(warnings).toEqual([])
    } finally {
      slow.closeAllConnections()
      await new Promise((resolve) => slow.close(resolve))
    }
  })

  it("a second machine runs nothing: identical values, restored output files, memoized calls shared", async () => {
    const team = `share-${teams++}`
    let bodies = 0
    let lookups = 0
    const lookup = memo("lookup", async (n: number) => {
      lookups++
      return { n, nonce: Math.random() }
    })
    const wf = workflow("shared")
      .step("gen", { cache: { inputs: ["input.txt"], outputs: ["dist/**"] } }, sh`mkdir -p dist && printf 'built from %s' "$(cat input.txt)" > dist/out.txt && echo generated`)
      .step("fn", { needs: ["gen"], cache: true }, async () => {
        bodies++
        return { nonce: Math.random(), when: new Date(0) }
      })
      // Not cached itself: its memoized call is what is shared.
      .step("asks", { needs: ["fn"] }, async () => lookup(7))
    const a = machine()
    const first = await runOn(a, wf, settings(team))
    expect(Object.values(first.result.steps).map((s) => s.status), JSON.stringify(first.events.filter((e) => e.type === "step:end" || e.type === "step:log"))).toEqual(["succeeded", "succeeded", "succeeded"])
    expect(first.warnings).toEqual([])

    const b = machine()
    const second = await runOn(b, wf, settings(team))
    expect(second.result.steps.gen!.status).toBe("cached")
    expect(second.result.steps.fn!.status).toBe("cached")
    expect(second.events.filter((e) => e.type === "step:start" && e.step !== "asks")).toEqual([])
    expect(bodies).toBe(1)
    expect(lookups).toBe(1)
    expect(second.events).toContainEqual(expect.objectContaining({ type: "step:memo", name: "lookup", outcome: "hit" }))
    expect(second.result.outputs).toEqual(first.result.outputs)
    expect(readFileSync(path.join(b, "dist/out.txt"), "utf8")).toBe("built from sources")
    expect(second.events).toContainEqual(expect.objectContaining({ type: "step:log", step: "gen", text: "generated", replayed: true }))
    expect(second.warnings).toEqual([])
  })

  it("never uploads the result of a failed or an interrupted step", async () => {
    const team = `fail-${teams++}`
    const failing = workflow("failing").step("boom", { cache: true }, async () => {
      throw new Error("no")
    })
    const failed = await runOn(machine(), failing, settings(team))
    expect(failed.result.steps.boom!.status).toBe("failed")
    const hanging = workflow("hanging").step("wait", { cache: true }, (_, ctx) =>
      new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("interrupted")))))
    const controller = new AbortController()
    const interrupted = await runOn(machine(), hanging, settings(team), {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "step:start") controller.abort()
      }
    })
    expect(interrupted.result.steps.wait!.status).not.toBe("succeeded")
    const good = await runOn(machine(), workflow("good").step("ok", { cache: true }, async () => 1), settings(team))
    expect(good.result.steps.ok!.status).toBe("succeeded")
    // Only the good step's artifact: the server is sound, nothing of the other two reached it.
    expect(artifactsOf(team)).toHaveLength(1)
  })

  it("a remote that is down: one run:warning, the run completes from the local cache", async () => {
    const wf = workflow("down")
      .step("a", { cache: true }, async () => "a")
      .step("b", { cache: true }, async () => "b")
      .step("c", { needs: ["a", "b"], cache: true }, async ({ a, b }: { a: string; b: string }) => a + b)
    const root = machine()
    const down = { url: "http://127.0.0.1:9", token, team: "t" }
    const first = await runOn(root, wf, down)
    expect(first.result.outputs.c).toBe("ab")
    expect(first.warnings).toEqual([expect.stringMatching(/remote cache http:\/\/127\.0\.0\.1:9: .* this run goes on with the local cache alone/)])
    const second = await runOn(root, wf, down)
    expect(Object.values(second.result.steps).map((s) => s.status)).toEqual(["cached", "cached", "cached"])
  })

  it("never writes the token to the journal, logs, events or warnings", async () => {
    const team = `secret-${teams++}`
    const wf = workflow("secret")
      .step("say", { cache: true }, sh`echo hello`)
      .step("fn", { cache: true }, async () => 2)
    const root = machine()
    const used = await runOn(root, wf, settings(team), { journal: true })
    // And a token the server refuses, whose warning names the problem, not the token.
    const refused = await runOn(machine(), wf, settings(`other-${teams++}`, { token: `${token}-wrong` }), { journal: true })
    expect(refused.warnings).toEqual([expect.stringMatching(/refused the token/)])
    const texts = [JSON.stringify(used.events), JSON.stringify(refused.events), JSON.stringify(used.result), ...filesUnder(root).map((f) => readFileSync(f, "latin1"))]
    expect(texts.length).toBeGreaterThan(5)
    for (const text of texts) expect(text).not.toContain(token)
    expect(filesUnder(root).some((f) => f.includes(`${path.sep}runs${path.sep}`))).toBe(true)
  })
})

const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true, recursive: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name))
