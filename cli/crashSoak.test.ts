/**
 * The crash-anywhere soak (issue 10, "Done when"): a 30-step cached
 * workflow whose steps write files (declared outputs) and read the files of
 * the steps they need is SIGKILLed at random moments; each kill is followed
 * by a plain rerun or a `--resume` (itself sometimes killed), and now and
 * then an output file is deleted or edited between runs. Every run that is
 * not killed must succeed, and in the end every output file is
 * byte-identical to a clean run's.
 *
 * Replayable: a failure names its seed; WEFT_SOAK_SEED replays it and
 * WEFT_SOAK_KILLS asks for more kills (`npm run soak` asks for 200).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, runKilledAfterStart, seededRandom, weft, workspaceWith } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const steps = 30
const ids = Array.from({ length: steps }, (_, i) => `s${i}`)
/** A fixed DAG: each step needs its predecessor (except at the start of each row of five) and the step at half its index. */
const needsOf = (i: number): Array<string> =>
  [...new Set([...(i % 5 === 0 ? [] : [i - 1]), ...(i > 1 ? [Math.floor(i / 2)] : [])])].filter((n) => n !== i).map((n) => `s${n}`)

/**
 * Each step reads its needs' files from disk (not only their values, so a
 * missing or edited file shows), sleeps a little, and writes `out/<id>.txt`
 * in two writes (so a kill can leave half a file) from a digest of all it read.
 */
const fixture = `
import { createHash } from "node:crypto"
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { workflow } from "weft"

const here = import.meta.dirname
const file = (id: string) => path.join(here, "out", id + ".txt")
const work = (id: string, needs: Array<string>) => async (inputs: Record<string, string>) => {
  const read = needs.map((need) => readFileSync(file(need), "utf8"))
  for (const need of needs) if (!read[needs.indexOf(need)]!.startsWith(inputs[need]!)) throw new Error(id + ": " + need + "'s file does not hold its value")
  await new Promise((resolve) => setTimeout(resolve, 2 + (id.length * 7) % 9))
  const digest = createHash("sha256").update(id + "|" + read.join("|")).digest("hex")
  mkdirSync(path.join(here, "out"), { recursive: true })
  writeFileSync(file(id), digest)
  appendFileSync(file(id), "\\n" + id + " made from " + needs.join(",") + "\\n")
  return digest
}

export default workflow("crash-soak", { concurrency: 4 })
${ids.map((id, i) => `  .step(${JSON.stringify(id)}, { needs: ${JSON.stringify(needsOf(i))}, cache: { outputs: ["out/${id}.txt"] } }, work(${JSON.stringify(id)}, ${JSON.stringify(needsOf(i))}))`).join("\n")}
`

const makeDir = () => workspaceWith(fixture, "weft-crash-soak-")

const outputsOf = (dir: string): Record<string, string> => {
  const out = path.join(dir, "out")
  return Object.fromEntries((existsSync(out) ? readdirSync(out) : []).sort().map((name) => [name, readFileSync(path.join(out, name), "latin1")]))
}


describe("crash anywhere", () => {
  it("SIGKILLs at random moments, reruns and resumes, edited outputs: every finished run succeeds, outputs equal a clean run's", async () => {
    const seed = Number(process.env.WEFT_SOAK_SEED ?? Date.now() % 1_000_000)
    const wanted = Number(process.env.WEFT_SOAK_KILLS ?? 3)
    const clean = makeDir()
    const cleanRun = await weft(["run", "weft.ts", "--no-cache"], { cwd: clean })
    expect(cleanRun.code, cleanRun.stdout + cleanRun.stderr).toBe(0)
    const expected = outputsOf(clean)
    expect(Object.keys(expected)).toHaveLength(steps)

    // Four workspaces at once for a long soak; one keeps the normal suite quick.
    const chains = wanted >= 20 ? 4 : 1
    const perChain = Math.ceil(wanted / chains)
    const log: Array<string> = []
    let kills = 0
    const chain = async (c: number) => {
      // One generator per chain: chains interleave as the machine runs them, and each must replay alike.
      const random = seededRandom(seed + c)
      const dir = makeDir()
      let landed = 0
      for (let i = 0; ; i++) {
        const last = landed >= perChain
        const resume = random() < 0.5
        const delay = last ? undefined : Math.round(random() * 120)
        // Between runs, now and then, someone deletes or edits an output file.
        const present = Object.keys(outputsOf(dir))
        if (present.length > 0 && random() < 0.3) {
          const victim = path.join(dir, "out", present[Math.floor(random() * present.length)]!)
          if (random() < 0.5) rmSync(victim)
          else writeFileSync(victim, "edited by someone\n")
          log.push(`chain ${c} run ${i}: ${path.basename(victim)} tampered`)
        }
        const where = `seed ${seed}, chain ${c}, run ${i} (${resume ? "--resume" : "rerun"}, kill after ${delay} ms)`
        log.push(where)
        const { running, result } = await runKilledAfterStart(["run", "weft.ts", ...(resume ? ["--resume"] : []), "--reporter", "json"], { cwd: dir }, delay)
        if (result.signal === "SIGKILL") {
          landed++
          kills++
          continue
        }
        expect(result.code, `${where}\n${log.slice(-20).join("\n")}\n${result.stdout.slice(-3000)}\n${result.stderr}`).toBe(0)
        if (last) break
        if (i > perChain * 6) throw new Error(`only ${landed} of ${perChain} kills landed (seed ${seed})`)
        // A run that ended left everything cached, and a kill seldom lands in a run of hits: start afresh.
        rmSync(path.join(dir, ".weft"), { recursive: true, force: true })
        rmSync(path.join(dir, "out"), { recursive: true, force: true })
        log.push(`chain ${c}: the run ended; cache, journals and outputs removed`)
      }
      expect(outputsOf(dir), `seed ${seed}, chain ${c}\n${log.join("\n")}`).toEqual(expected)
    }
    await Promise.all(Array.from({ length: chains }, (_, c) => chain(c)))
    expect(kills).toBeGreaterThanOrEqual(wanted)
  }, 600_000)
})
