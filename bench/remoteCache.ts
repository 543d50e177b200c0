/**
 * What the shared cache costs when it answers everything: a 100-step random
 * DAG (seed 42, as in `steps.ts`), every step `cache: true`, filled once
 * through a real turborepo-remote-cache server on loopback (local-disk
 * storage), then rerun
 *
 * - from an empty local store with the warm remote: every step a download,
 *   decoded, checked, written into the local store and read back;
 * - with the warm local store, the remote still configured (never asked);
 * - with the warm local store and no remote configured (the local path as
 *   it was before the shared cache: the in-run baseline).
 *
 * Median of the repeats, after a warm-up run of each.
 *
 *   node bench/remoteCache.ts [--steps 100] [--repeats 5]
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { makeStepDef, type StepDef } from "../dsl/Step.ts"
import { Workflow } from "../dsl/Workflow.ts"
import type { RemoteCacheSettings } from "../runtime/cache/remote/RemoteCache.ts"
import { run } from "../runtime/Run.ts"
import { startRemoteCacheServer } from "../test/fixtures/remoteCacheServer.ts"
import { randomDag } from "./graph.ts"
import { fmt, median } from "./stats.ts"

const token = "bench-token"

export interface RemoteCacheBenchOptions {
  readonly steps?: number
  readonly repeats?: number
}

export const main = async (options: RemoteCacheBenchOptions = {}): Promise<void> => {
  const { steps = 100, repeats = 5 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  const server = await startRemoteCacheServer({ token })
  const root = mkdtempSync(path.join(tmpdir(), "weft-bench-remote-"))
  try {
    const graph = randomDag(steps)
    const defs: Array<StepDef> = graph.deps.map((ds, i) => makeStepDef(`s${i}`, { needs: ds.map((d) => `s${d}`), cache: true }, () => ({ i, text: `step ${i}` })))
    const wf = Workflow.make("bench-remote-cache", { concurrency: 8 }, defs)
    const remote: RemoteCacheSettings = { url: server.url, token, team: "bench" }
    let fresh = 0
    const runWith = async (dir: string, settings: RemoteCacheSettings | false, expect: "succeeded" | "cached") => {
      const result = await run(wf, { cwd: root, journal: false, cache: { root, dir, remote: settings } })
      const wrong = Object.values(result.steps).filter((s) => s.status !== expect).length
      if (result.status !== "succeeded" || wrong > 0) throw new Error(`run ended ${result.status}: ${wrong} steps not ${expect}`)
    }
    const time = async (setup: () => string, settings: RemoteCacheSettings | false, count = repeats): Promise<Array<number>> => {
      const times: Array<number> = []
      for (let i = 0; i <= count; i++) {
        const dir = setup()
        const start = performance.now()
        await runWith(dir, settings, "cached")
        if (i > 0) times.push(performance.now() - start) // the first is the warm-up
      }
      return times
    }
    say(`remote cache: ${steps} cache: true steps in a random DAG (seed 42), all hits, through turborepo-remote-cache on loopback; median of ${repeats}`)
    const warm = path.join(root, "warm")
    const fill = performance.now()
    await runWith(warm, remote, "succeeded")
    const fillMs = performance.now() - fill
    const fromRemote = await time(() => path.join(root, `empty-${fresh++}`), remote)
    // Interleaved, so that neither warm-local figure inherits the other's (or the downloads') garbage or warm-up.
    const localWithRemote: Array<number> = []
    const localOnly: Array<number> = []
    for (let i = 0; i < repeats; i++) {
      localWithRemote.push(...(await time(() => warm, remote, 1)))
      localOnly.push(...(await time(() => warm, false, 1)))
    }
    const [r, l, b] = [median(fromRemote), median(localWithRemote), median(localOnly)]
    say(`  fill (first run, all misses, each uploaded): ${fmt(fillMs)} ms`)
    say(`  empty local store, warm remote: ${fmt(r)} ms (${fmt((r * 1000) / steps)} us/step); ${fmt(r / b)}x the local-only rerun`)
    say(`  warm local store, remote configured: ${fmt(l)} ms; warm local store, no remote (baseline): ${fmt(b)} ms; ratio ${fmt(l / b)}x`)
    say(`  runs: remote ${fromRemote.map((ms) => fmt(ms)).join(", ")}; local+remote ${localWithRemote.map((ms) => fmt(ms)).join(", ")}; local ${localOnly.map((ms) => fmt(ms)).join(", ")} ms`)
  } finally {
    await server.stop()
    rmSync(root, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { steps: { type: "string" }, repeats: { type: "string" } } })
  await main({ steps: values.steps === undefined ? undefined : Number(values.steps), repeats: values.repeats === undefined ? undefined : Number(values.repeats) })
}
