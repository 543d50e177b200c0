/**
 * `weft run --resume` after a SIGKILL or a failure (reliability tests 17 and
 * 18): steps with a durable completion record are not run again, the rest
 * run, final outputs equal a clean run's, and a step whose key changed is
 * never replayed ("journal mismatch for X").
 *
 * Kill points come from a seeded generator: a failure prints the seed;
 * WEFT_RESUME_SEED replays it, WEFT_RESUME_KILLS asks for more kills (soak).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { latestResumable, recordsOf } from "../runtime/journal/Journal.ts"
import { eventsOf, removeTempDirs, repoRoot, runKilledAfterStart, seededRandom, tempDir, weft } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

/** The DAG: each step needs these. */
const graph: Record<string, ReadonlyArray<string>> = {
  s0: [],
  s1: ["s0"],
  s2: ["s0"],
  s3: ["s1"],
  s4: ["s1", "s2"],
  s5: ["s2"],
  s6: ["s3", "s4"],
  s7: ["s5"],
  s8: ["s6"],
  s9: ["s7", "s6"],
  s10: ["s8"],
  s11: ["s9", "s10"]
}
const ids = Object.keys(graph)

/**
 * Each step appends `<pid> <id>` to the counter file, sleeps, and returns a
 * value computed from its inputs (written to `out/<id>` too). `s5` also reads
 * `input.txt` (declared in its cache inputs, so that editing it changes `s5`'s
 * key and no other's), and `s11` fails while `WEFT_TEST_FAIL` is set.
 */
const fixture = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { workflow } from ${JSON.stringify(path.join(repoRoot, "index.ts"))}

const here = import.meta.dirname
const work = (id: string, add: () => number) => async (inputs: Record<string, number>) => {
  appendFileSync(path.join(here, "counter"), process.pid + " " + id + "\\n")
  await new Promise((resolve) => setTimeout(resolve, 15))
  if (id === "s11" && process.env.WEFT_TEST_FAIL) throw new Error("failing on purpose")
  const value = (Object.values(inputs).reduce((a, b) => a + b, 0) * 3 + add()) % 1000003
  mkdirSync(path.join(here, "out"), { recursive: true })
  writeFileSync(path.join(here, "out", id), String(value))
  return value
}

export default workflow("resume-fixture", { concurrency: 2 })
${
  ids.map((id, i) => {
    const add = id === "s5" ? `() => readFileSync(path.join(here, "input.txt"), "utf8").length` : `() => ${i + 1}`
    const options = [`needs: ${JSON.stringify(graph[id])}`, ...(id === "s5" ? [`cache: { inputs: ["input.txt"] }`] : [])]
    return `  .step(${JSON.stringify(id)}, { ${options.join(", ")} }, work(${JSON.stringify(id)}, ${add}))`
  }).join("\n")
}
`

const makeDir = () => {
  const dir = tempDir("weft-resume-")
  writeFileSync(path.join(dir, "weft.ts"), fixture)
  writeFileSync(path.join(dir, "input.txt"), "first")
  return dir
}

/** `pid id` lines of the counter file. */
const runsOf = (dir: string): Array<{ pid: number; id: string }> => {
  const file = path.join(dir, "counter")
  if (!existsSync(file)) return []
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => {
    const [pid, id] = line.split(" ")
    return { pid: Number(pid), id: id! }
  })
}

const outputsOf = (dir: string) => Object.fromEntries(ids.map((id) => [id, readFileSync(path.join(dir, "out", id), "utf8")]))

/** What the run `--resume` would resume recorded: the steps it must not run again. */
const recorded = async (dir: string): Promise<Set<string>> => {
  const runs = path.join(dir, ".weft", "runs")
  const journal = await latestResumable(runs, "resume-fixture")
  return journal === undefined ? new Set() : new Set((await recordsOf(runs, journal)).keys())
}


describe("weft run --resume", () => {
  it("after a failure and an edited input: replays what is unchanged, reruns what changed, says so", async () => {
    const dir = makeDir()
    const first = await weft(["run", "weft.ts", "--resume", "--reporter", "json"], { cwd: dir, env: { WEFT_TEST_FAIL: "1" } })
    expect(first.code).toBe(1)
    expect(eventsOf(first.stdout).some((e) => e.type === "run:warning" && /no unfinished run/.test(e.message))).toBe(true)
    writeFileSync(path.join(dir, "input.txt"), "second, longer")
    writeFileSync(path.join(dir, "counter"), "")
    const resumed = await weft(["run", "weft.ts", "--resume"], { cwd: dir })
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0)
    // s5's key changed (its input file), and so did its dependents' (their inputs); s11 had failed.
    expect(new Set(runsOf(dir).map((r) => r.id))).toEqual(new Set(["s5", "s7", "s9", "s11"]))
    expect(resumed.stdout.match(/journal mismatch for s5\b/g)).toHaveLength(1)
    expect(resumed.stdout).toMatch(/journal mismatch for s7\b/)
    expect(resumed.stdout).toMatch(/resumed from run/)

    const clean = makeDir()
    writeFileSync(path.join(clean, "input.txt"), "second, longer")
    expect((await weft(["run", "weft.ts", "--no-cache"], { cwd: clean })).code).toBe(0)
    expect(outputsOf(dir)).toEqual(outputsOf(clean))
  })

  it("after SIGKILLs at random points: recorded steps never rerun, outputs equal a clean run's", async () => {
    const seed = Number(process.env.WEFT_RESUME_SEED ?? Date.now() % 100_000)
    const wanted = Number(process.env.WEFT_RESUME_KILLS ?? 10)
    const random = seededRandom(seed)
    const clean = makeDir()
    expect((await weft(["run", "weft.ts"], { cwd: clean })).code).toBe(0)
    const expected = outputsOf(clean)

    const chains = 4
    const perChain = Math.ceil(wanted / chains)
    let kills = 0
    /** Runs `--resume` until `perChain` runs were killed; the last one runs to the end. */
    const chain = async (delays: ReadonlyArray<number>) => {
      const dir = makeDir()
      let crashes = 0
      // Since the last run that completed: a completed run leaves nothing to resume, so the next one starts afresh.
      let segment = { start: 0, crashes: 0 }
      for (let i = 0; ; i++) {
        const delay = crashes < perChain ? delays[i % delays.length] : undefined
        const mustSkip = await recorded(dir)
        const { running, result } = await runKilledAfterStart(["run", "weft.ts", "--resume", "--reporter", "json"], { cwd: dir }, delay)
        const pid = running.child.pid!
        const ran = runsOf(dir).filter((r) => r.pid === pid).map((r) => r.id)
        const where = `seed ${seed}, run ${i} killed after ${delay} ms`
        expect(ran.filter((id) => mustSkip.has(id)), `recorded steps ran again (${where})`).toEqual([])
        expect(new Set(ran).size, `a step ran twice in one run (${where})`).toBe(ran.length)
        if (result.signal === "SIGKILL") {
          crashes++
          kills++
          segment.crashes++
          continue
        }
        expect(result.code, `${where}\n${result.stderr}`).toBe(0)
        if (delay === undefined) break
        segment = { start: runsOf(dir).length, crashes: 0 }
        if (i > perChain * 4) throw new Error(`only ${crashes} of ${perChain} kills landed (seed ${seed})`)
      }
      const all = runsOf(dir)
      const last = all.slice(segment.start)
      for (const id of ids) {
        expect(all.some((r) => r.id === id), `${id} never ran (seed ${seed})`).toBe(true)
        // Each crash can cost at most one more run of a step.
        expect(last.filter((r) => r.id === id).length, `${id} (seed ${seed})`).toBeLessThanOrEqual(segment.crashes + 1)
      }
      expect(outputsOf(dir), `seed ${seed}`).toEqual(expected)
    }
    // The steps take ~150 ms from the first start: kill anywhere in that, or just after.
    await Promise.all(Array.from({ length: chains }, () => chain(Array.from({ length: perChain * 4 }, () => Math.round(random() * 200)))))
    expect(kills).toBeGreaterThanOrEqual(wanted)
  }, 60_000)
})
