/**
 * `verify` (issue 16), in one run of this script:
 *
 * - Cost: verifying a 15-step workflow of function steps with 50 schedules,
 *   against 50 plain runs of it in the same process (cache and journal off,
 *   as verify's runs are), alternated so that a noisy machine hits both
 *   alike. Target: at most 1.5× when nothing is found.
 * - Time to find: for each planted bug of the test suite, how many drawn
 *   schedules it took to find it, over several seeds (median and worst).
 * - The examples: each verified with the default 50 runs (5 for the two
 *   whose steps wait seconds on purpose), and what was found (nothing, or the
 *   bench fails).
 *
 *   node --conditions=weft-source bench/verify.ts [--repeats 3] [--seeds 9]
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { workflow, type Workflow } from "../dsl/Workflow.ts"
import { memo } from "../runtime/memo.ts"
import { run } from "../runtime/Run.ts"
import { verify } from "../properties/index.ts"
import { fmt, median, table } from "./stats.ts"

/** About a millisecond of hashing: a function step that does a little work. */
const work = (seed: number) => {
  let digest = String(seed)
  for (let i = 0; i < 400; i++) digest = createHash("sha256").update(digest).digest("hex")
  return digest.slice(0, 8)
}

/** 15 function steps: a fan-out of five chains of two, a fan-in, and a tail (the shape of a small CI pipeline). */
export const fifteen = (): Workflow<any> => {
  let wf: any = workflow("fifteen").step("start", () => work(0))
  for (let c = 0; c < 5; c++) {
    wf = wf.step(`c${c}a`, { after: ["start"] }, () => work(c * 2 + 1))
    wf = wf.step(`c${c}b`, { after: [`c${c}a`] }, () => work(c * 2 + 2))
  }
  wf = wf.step("join", { after: [0, 1, 2, 3, 4].map((c) => `c${c}b`) }, () => work(11))
  wf = wf.step("t1", { after: ["join"] }, () => work(12))
  wf = wf.step("t2", { after: ["join"] }, () => work(13))
  return wf.step("end", { after: ["t1", "t2"] }, () => work(14))
}

const planted: Record<string, { readonly wf: () => Workflow<any>; readonly files?: Record<string, string> }> = {
  "two steps append to one file": {
    wf: () =>
      workflow("appending")
        .step("a", () => fs.appendFileSync("log.txt", "a\n"))
        .step("b", () => fs.appendFileSync("log.txt", "b\n"))
        .step("read", { after: ["a", "b"] }, () => fs.readFileSync("log.txt", "utf8")),
    files: { "log.txt": "" }
  },
  "a step reads what another writes, unordered": {
    wf: () =>
      workflow("reading")
        .step("write", () => fs.writeFileSync("data.txt", "new"))
        .step("other", () => 42)
        .step("read", () => fs.readFileSync("data.txt", "utf8")),
    files: { "data.txt": "old" }
  },
  "a memo key leaves out an argument": {
    wf: () => {
      const price = memo("price", async (symbol: string, currency: string) => (currency === "usd" ? 1 : 0.9) * symbol.length, { key: (symbol) => symbol })
      return workflow("prices").step("usd", () => price("ACME", "usd")).step("eur", () => price("ACME", "eur"))
    }
  },
  "a value depends on how many steps run beside it": {
    wf: () => {
      let running = 0
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
      return workflow("width")
        .step("busy", async () => {
          running++
          await sleep(10)
          running--
        })
        .step("width", async () => {
          running++
          await sleep(5)
          const beside = running
          running--
          return beside
        })
    }
  }
}

const folderWith = (files: Record<string, string> = {}): string => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "weft-bench-verify-"))
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
  return dir
}

export const main = async (options: { readonly repeats?: number; readonly seeds?: number; readonly examples?: boolean } = {}): Promise<void> => {
  const repeats = options.repeats ?? 3
  const seeds = options.seeds ?? 9
  const dir = folderWith()
  const wf = fifteen()
  const plainTimes: Array<number> = []
  const verifyTimes: Array<number> = []
  await run(wf, { cwd: dir, cache: { mode: "off" }, journal: false })
  for (let r = 0; r < repeats; r++) {
    let t = performance.now()
    for (let i = 0; i < 50; i++) await run(wf, { cwd: dir, cache: { mode: "off" }, journal: false })
    plainTimes.push(performance.now() - t)
    t = performance.now()
    const findings = await verify(wf, { cwd: dir, runs: 50, seed: r + 1 })
    verifyTimes.push(performance.now() - t)
    if (findings.length > 0) throw new Error(`the bench workflow has findings: ${JSON.stringify(findings)}`)
  }
  fs.rmSync(dir, { recursive: true, force: true })
  const [plainMs, verifyMs] = [median(plainTimes), median(verifyTimes)]
  process.stdout.write(`verify: a 15-step workflow of function steps (about 1 ms of work each), median of ${repeats}\n`)
  process.stdout.write(table([
    ["what", "time", "per run"],
    ["50 plain runs (baseline)", `${fmt(plainMs)} ms`, `${fmt(plainMs / 50)} ms`],
    ["verify, 50 schedules", `${fmt(verifyMs)} ms`, `${fmt(verifyMs / 51)} ms`],
    ["ratio (target ≤ 1.5×)", `${(verifyMs / plainMs).toFixed(2)}×`, ""]
  ]))

  const rows: Array<Array<string>> = [["planted bug", "by tracing (one run)", "schedules to find, tracing off: median", "worst", "found in"]]
  for (const [name, bug] of Object.entries(planted)) {
    const tracedDir = folderWith(bug.files)
    const traced = await verify(bug.wf(), { cwd: tracedDir, runs: 0 })
    fs.rmSync(tracedDir, { recursive: true, force: true })
    const needed: Array<number> = []
    for (let seed = 1; seed <= seeds; seed++) {
      const cwd = folderWith(bug.files)
      let at: number | undefined
      const findings = await verify(bug.wf(), { cwd, seed, runs: 50, trace: false, onProgress: (p) => void (p.finding !== undefined && at === undefined && (at = p.schedules)) })
      fs.rmSync(cwd, { recursive: true, force: true })
      needed.push(findings.length === 0 || at === undefined ? Infinity : at)
    }
    const found = needed.filter(Number.isFinite).length
    rows.push([name, traced.length > 0 ? `found (${traced[0]!.kind})` : "not seen", String(median(needed)), String(Math.max(...needed)), `${found}/${seeds} seeds`])
  }
  process.stdout.write(`\nverify: how each planted bug is found: by tracing in one run, and by schedules alone (50 runs), over ${seeds} seeds\n`)
  process.stdout.write(table(rows))
  if (options.examples !== false) await verifyExamples()
}

/** 14 and 3 s a run: their steps wait seconds on purpose. */
const slowExamples = new Set(["integration-tests.ts", "rate-limited.ts"])

const verifyExamples = async (): Promise<void> => {
  const dir = fileURLToPath(new URL("../examples/", import.meta.url))
  const rows: Array<Array<string>> = [["example", "runs", "time", "findings"]]
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "sleep.ts").sort()) {
    const wf = (await import(path.join(dir, file))).default
    const runs = slowExamples.has(file) ? 5 : 50
    const t = performance.now()
    const findings = await verify(wf, { cwd: dir, runs, seed: 16 })
    rows.push([file, String(runs), `${fmt((performance.now() - t) / 1000)} s`, String(findings.length)])
    if (findings.length > 0) throw new Error(`verify found something in examples/${file}: ${JSON.stringify(findings, null, 2)}`)
  }
  process.stdout.write(`\nverify: the examples\n`)
  process.stdout.write(table(rows))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { repeats: { type: "string" }, seeds: { type: "string" }, "no-examples": { type: "boolean" } } })
  await main({
    repeats: values.repeats === undefined ? undefined : Number(values.repeats),
    seeds: values.seeds === undefined ? undefined : Number(values.seeds),
    examples: values["no-examples"] !== true
  })
}
