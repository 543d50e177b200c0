/**
 * The step cache from the command line: `weft run` reads and writes it,
 * `--no-cache` and `--force` change that, and `weft cache stats|prune|clear`
 * look into and trim it. Each case works in its own temp folder holding a
 * `weft.ts` whose steps append their id to `ran.log` when they really run.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, it } from "vitest"
import type { EventOf } from "../runtime/Event.ts"
import { eventsOf, removeTempDirs, repoRoot, tempDir, weft, type WeftResult } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** A folder with a cached workflow: a → b, c reads input.txt, m calls a memoized function twice and is not cached. */
const project = (): string => {
  const dir = tempDir("weft-cache-cli-")
  writeFileSync(path.join(dir, "input.txt"), "one")
  writeFileSync(path.join(dir, "weft.ts"), `
import { appendFileSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { workflow } from ${JSON.stringify(path.join(repoRoot, "dsl/index.ts"))}
import { memo } from ${JSON.stringify(path.join(repoRoot, "runtime/memo.ts"))}

const ran = (id: string) => appendFileSync(path.join(import.meta.dirname, "ran.log"), id + "\\n")
const double = memo("double", async (x: number) => x * 2)

export default workflow("counted")
  .step("a", { cache: true }, () => (ran("a"), 1))
  .step("b", { needs: ["a"], cache: true }, ({ a }: { a: number }) => (ran("b"), a + 1))
  .step("c", { cache: { inputs: ["input.txt"] } }, () => (ran("c"), readFileSync(path.join(import.meta.dirname, "input.txt"), "utf8")))
  .step("m", async () => (ran("m"), (await double(2)) + (await double(2))))
`)
  return dir
}

const ranIn = (dir: string): Array<string> => {
  const file = path.join(dir, "ran.log")
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").sort() : []
}

/** `weft run --reporter json …` in `dir`: exit code 0, and each step's end status. */
const runIn = async (dir: string, ...flags: Array<string>): Promise<Record<string, string>> => {
  const r = await weft(["run", "--reporter", "json", ...flags], { cwd: dir })
  if (r.code !== 0) throw new Error(shown(r))
  const ends = eventsOf(r.stdout).filter((e): e is EventOf<"step:end"> => e.type === "step:end")
  return Object.fromEntries(ends.map((e) => [e.step, e.status]))
}

interface Stats {
  readonly entries: number
  readonly byKind: Record<"step" | "memo", { entries: number; bytes: number }>
  readonly newest: number | undefined
  readonly history: { runs: number; steps: { cached: number; ran: number; rate: number }; memo: Record<string, { calls: number; answered: number; rate: number }> }
}

const statsOf = async (dir: string, ...args: Array<string>): Promise<Stats> => {
  const r = await weft(["cache", "stats", "--json", ...args], { cwd: dir })
  if (r.code !== 0) throw new Error(shown(r))
  return JSON.parse(r.stdout) as Stats
}

const entriesOnDisk = (dir: string): number => {
  const entries = path.join(dir, ".weft", "cache", "entries")
  return existsSync(entries) ? readdirSync(entries).flatMap((fan) => readdirSync(path.join(entries, fan))).length : 0
}

const all = (status: string) => ({ a: status, b: status, c: status, m: "succeeded" })

describe.concurrent("weft run and the cache", () => {
  it("a second run is all cached; cache stats counts the entries and the hit rates of both runs", async ({ expect }) => {
    const dir = project()
    expect(await runIn(dir)).toEqual(all("succeeded"))
    expect(await runIn(dir)).toEqual(all("cached"))
    expect(ranIn(dir)).toEqual(["a", "b", "c", "m", "m"])
    const stats = await statsOf(dir)
    expect(stats.entries).toBe(4)
    expect(stats.byKind.step.entries).toBe(3)
    expect(stats.byKind.memo.entries).toBe(1)
    // Run 1 ran a, b, c, m; run 2 ran m and answered a, b, c from the cache.
    expect(stats.history).toMatchObject({ runs: 2, steps: { cached: 3, ran: 5, rate: 3 / 8 } })
    // double(2) twice a run: a miss then a hit, then two hits from the store.
    expect(stats.history.memo.double).toEqual({ calls: 4, answered: 3, rate: 3 / 4 })
    expect((await statsOf(dir, "--runs", "1")).history.steps).toEqual({ cached: 3, ran: 1, rate: 3 / 4 })

    const text = await weft(["cache", "stats"], { cwd: dir })
    expect(text.stdout).toMatch(/^  entries  4 \(3 step, 1 memo\)$/m)
    expect(text.stdout).toMatch(/^  steps    38% cached \(3 cached, 5 ran\)$/m)
    expect(text.stdout).toMatch(/^  memo double  75% answered \(3 of 4 calls\)$/m)
    writeFileSync(path.join(dir, "input.txt"), "two")
    expect(await runIn(dir)).toEqual({ ...all("cached"), c: "succeeded" })
  })

  it("--no-cache runs everything every time and writes no entry", async ({ expect }) => {
    const dir = project()
    expect(await runIn(dir, "--no-cache")).toEqual(all("succeeded"))
    expect(await runIn(dir, "--no-cache")).toEqual(all("succeeded"))
    expect(ranIn(dir)).toEqual(["a", "a", "b", "b", "c", "c", "m", "m"])
    expect(entriesOnDisk(dir)).toBe(0)
    const stats = await statsOf(dir)
    expect(stats.entries).toBe(0)
    expect(stats.history.steps).toMatchObject({ cached: 0, ran: 8 })
  })

  it("--force reruns every step and overwrites its entry, which the next run uses", async ({ expect }) => {
    const dir = project()
    await runIn(dir)
    const before = await statsOf(dir)
    expect(await runIn(dir, "--force")).toEqual(all("succeeded"))
    expect(ranIn(dir)).toEqual(["a", "a", "b", "b", "c", "c", "m", "m"])
    const after = await statsOf(dir)
    expect(after.entries).toBe(4)
    expect(after.newest!).toBeGreaterThan(before.newest!)
    expect(await runIn(dir)).toEqual(all("cached"))
  })

  it("cache prune --max-size 1 removes every entry and says what it freed; the next run is a miss", async ({ expect }) => {
    const dir = project()
    await runIn(dir)
    const r = await weft(["cache", "prune", "--max-size", "1"], { cwd: dir })
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toMatch(/removed 4 entries, freed \d+(\.\d)? (B|KB); 0 left/)
    expect(entriesOnDisk(dir)).toBe(0)
    expect(await runIn(dir)).toEqual(all("succeeded"))
    // A roomy cap keeps everything.
    const roomy = await weft(["cache", "prune", "--max-size", "500MB"], { cwd: dir })
    expect(roomy.stdout).toMatch(/removed 0 entries, freed 0 B; 4 left/)
  })

  it("cache clear empties the store, naming the file's folder; a bad size is a usage error", async ({ expect }) => {
    const dir = project()
    await runIn(dir)
    const elsewhere = tempDir("weft-cache-cwd-")
    const r = await weft(["cache", "clear", path.join(dir, "weft.ts")], { cwd: elsewhere })
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toMatch(/removed 4 entries/)
    expect(entriesOnDisk(dir)).toBe(0)
    expect(await runIn(dir)).toEqual(all("succeeded"))

    const bad = await weft(["cache", "prune", "--max-size", "12XB"], { cwd: dir })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--max-size must be a size like 500MB.*not "12XB"/)
    const unknown = await weft(["cache", "shrink"], { cwd: dir })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown cache subcommand "shrink"/)
  })
})
