/**
 * What the step cache costs when it answers everything, and how fast input
 * files are hashed.
 *
 * (a) Replay: a 1,000-step random DAG (as in `steps.ts`, seed 42), every step
 * `cache: true` returning its index, run once to fill a fresh store, then
 * timed while every step is a hit. The in-run baseline is `run()` of the same
 * graph with no cache at all. Median of the repeats, after warm-up runs.
 * Targets: a replay under 1 s, and under 2× the no-cache run.
 *
 * (b) Hashing: 10,000 small files (100–2,000 bytes) in a temp folder, hashed
 * through one glob by a fresh hasher with no state file (cold: every file
 * read), then by a hasher loading the state the cold one saved (warm: nothing
 * changed, so only stat). Files are made old enough (mtime 10 s ago) to be
 * remembered.
 *
 *   node bench/cache.ts [--steps 1000] [--files 10000] [--repeats 5]
 */
import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { makeStepDef, type StepDef } from "../dsl/Step.ts"
import { Workflow } from "../dsl/Workflow.ts"
import { makeFileHasher } from "../runtime/cache/fileHashes.ts"
import type { CacheSettings } from "../runtime/cache/runCache.ts"
import { run } from "../runtime/Run.ts"
import { randomDag, type Graph } from "./graph.ts"
import { fmt, median, timeRuns } from "./stats.ts"

const targets = { replayMs: 1000, ratio: 2 }
const repo = path.resolve(import.meta.dirname, "..")

const toWorkflow = (graph: Graph, cache: boolean): Workflow<any> => {
  const defs: Array<StepDef> = graph.deps.map((ds, i) =>
    makeStepDef(`s${i}`, { needs: ds.map((d) => `s${d}`), ...(cache ? { cache: true } : {}) }, () => i)
  )
  return Workflow.make("bench-cache", { concurrency: 8 }, defs)
}

const runOnce = async (wf: Workflow<any>, n: number, cache: CacheSettings | undefined, expect: "succeeded" | "cached") => {
  const result = await run(wf, cache === undefined ? { cache: { mode: "off" } } : { cwd: cache.root, cache })
  const wrong = Object.values(result.steps).filter((s) => s.status !== expect).length
  if (result.status !== "succeeded" || Object.keys(result.outputs).length !== n || wrong > 0) {
    throw new Error(`run ended ${result.status}: ${Object.keys(result.outputs).length} of ${n} outputs, ${wrong} steps not ${expect}`)
  }
}

const timed = async (f: () => Promise<unknown>, warmup: number, repeats: number): Promise<Array<number>> => {
  for (let i = 0; i < warmup; i++) await f()
  return timeRuns(f, repeats)
}

export interface CacheBenchOptions {
  readonly steps?: number
  readonly files?: number
  readonly repeats?: number
}

export const main = async (options: CacheBenchOptions = {}): Promise<void> => {
  const { steps = 1000, files = 10_000, repeats = 5 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  const root = mkdtempSync(path.join(tmpdir(), "weft-bench-cache-"))
  try {
    const graph = randomDag(steps)
    const cached = toWorkflow(graph, true)
    const plain = toWorkflow(graph, false)
    const cache: CacheSettings = { root, dir: path.join(root, ".weft", "cache") }
    say(`cache replay: ${steps.toLocaleString("en")} cache: true steps in a random DAG (seed 42), all hits, vs run() with no cache; median of ${repeats}`)
    const first = performance.now()
    await runOnce(cached, steps, cache, "succeeded")
    const fillMs = performance.now() - first
    const replay = await timed(() => runOnce(cached, steps, cache, "cached"), 2, repeats)
    const baseline = await timed(() => runOnce(plain, steps, undefined, "succeeded"), 2, repeats)
    const [r, b] = [median(replay), median(baseline)]
    say(`  fill (first run, all misses): ${fmt(fillMs)} ms`)
    say(`  replay: ${fmt(r)} ms (${fmt((r * 1000) / steps)} us/step); no cache: ${fmt(b)} ms (${fmt((b * 1000) / steps)} us/step); ratio ${fmt(r / b)}x`)
    say(`  replays: ${replay.map((ms) => fmt(ms)).join(", ")} ms; no cache: ${baseline.map((ms) => fmt(ms)).join(", ")} ms`)
    say(`  targets: < ${targets.replayMs} ms ${r < targets.replayMs ? "met" : "MISSED"}, < ${targets.ratio}x ${r / b < targets.ratio ? "met" : "MISSED"}`)

    // The comparison: the whole `weft run` command, cached replay
    // against the same workflow with no-op steps and no cache.
    const cli = (cached: boolean) => {
      const env = { ...process.env, BENCH_CACHE: cached ? "1" : "0", BENCH_STEPS: String(steps), WEFT_CACHE_DIR: path.join(root, "cli-cache") }
      const args = ["bin/weft.js", "run", "bench/fixtures/cache-replay.ts", "--reporter", "json", ...(cached ? [] : ["--no-cache"])]
      const t0 = performance.now()
      const child = spawnSync(process.execPath, args, { cwd: repo, env, stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 28 })
      const ms = performance.now() - t0
      if (child.status !== 0) throw new Error(`weft run exited ${child.status}`)
      const statuses = String(child.stdout).trim().split("\n").map((line) => JSON.parse(line)).filter((e) => e.type === "step:end").map((e) => e.status)
      if (cached && statuses.some((status) => status !== "cached")) return undefined
      return ms
    }
    cli(true) // fill
    const cliReplay = median((await timed(async () => cli(true)!, 1, repeats)))
    const cliPlain = median((await timed(async () => cli(false)!, 1, repeats)))
    say(`  the whole command: weft run (all hits) ${fmt(cliReplay)} ms; weft run --no-cache (no-op steps) ${fmt(cliPlain)} ms; ratio ${fmt(cliReplay / cliPlain)}x (< ${targets.ratio}x ${cliReplay / cliPlain < targets.ratio ? "met" : "MISSED"})`)

    const tree = path.join(root, "tree")
    let bytes = 0
    const old = (Date.now() - 10_000) / 1000
    for (let i = 0; i < files; i++) {
      const dir = path.join(tree, `d${i % 100}`)
      if (i < 100) mkdirSync(dir, { recursive: true })
      const file = path.join(dir, `f${i}.txt`)
      const content = randomBytes(100 + (i * 7919) % 1900)
      bytes += content.length
      writeFileSync(file, content)
      utimesSync(file, old, old)
    }
    // ctime cannot be set back: wait until the files are past the racy window (2 s) so the cold run remembers them.
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const state = path.join(root, "file-hashes.json")
    const hash = async (fresh: boolean) => {
      if (fresh) rmSync(state, { force: true })
      const hasher = makeFileHasher(state)
      const t0 = performance.now()
      const result = await hasher.hashGlobs(root, ["tree/**/*.txt"])
      const ms = performance.now() - t0
      if (result.files.length !== files) throw new Error(`hashed ${result.files.length} of ${files} files`)
      if (!fresh && hasher.filesRead !== 0) throw new Error(`warm hasher read ${hasher.filesRead} files`)
      return ms
    }
    const cold = median(await timed(() => hash(true), 1, repeats))
    await hash(true)
    const warm = median(await timed(() => hash(false), 1, repeats))
    const mb = bytes / 1e6
    say(`file hashing: ${files.toLocaleString("en")} files, ${fmt(mb)} MB, one glob; median of ${repeats}`)
    say(`  cold (no state): ${fmt(cold)} ms, ${fmt(files / (cold / 1000))} files/s, ${fmt(mb / (cold / 1000))} MB/s`)
    say(`  warm (state, nothing changed): ${fmt(warm)} ms, ${fmt(files / (warm / 1000))} files/s, ${fmt(mb / (warm / 1000))} MB/s`)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { steps: { type: "string" }, files: { type: "string" }, repeats: { type: "string" } } })
  await main({
    ...(values.steps === undefined ? {} : { steps: Number(values.steps) }),
    ...(values.files === undefined ? {} : { files: Number(values.files) }),
    ...(values.repeats === undefined ? {} : { repeats: Number(values.repeats) })
  })
}
