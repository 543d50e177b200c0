/**
 * The dashboard in a real pseudo-terminal, as a user sees it: live frames
 * while steps run (also with CI set, where Ink on its own would draw only the
 * last frame), and watch mode's keys on a terminal ending with no process
 * left behind.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { groupMembers } from "../test/fixtures/cli/harness.ts"
import { inTerminal, killLaunched } from "../test/fixtures/terminal.ts"
import { folder, removeFolders, spec, write } from "../test/fixtures/watch/harness.ts"

afterEach(killLaunched)
afterAll(removeFolders)

/** A step that records its pid, then waits until the file `open` exists. */
const gate = "echo $$ > pid.txt; while [ ! -f open ]; do sleep 0.02; done; echo through"

const pidIn = (dir: string): number => (existsSync(path.join(dir, "pid.txt")) ? Number(readFileSync(path.join(dir, "pid.txt"), "utf8")) : 0)

describe("the dashboard in a terminal", () => {
  it("draws live frames while a step runs, with --reporter tui even under CI, and ends with the summary", async () => {
    const dir = folder()
    write(dir, { "weft.json": spec([{ id: "gate", run: gate }, { id: "after", run: "echo done", needs: ["gate"] }], "gated") })
    const weft = inTerminal(["run", "weft.json", "--reporter", "tui"], dir, { CI: "1" })
    // A frame drawn while `gate` is still waiting: nothing has ended yet.
    await weft.until(/weft ▸ gated · run \d+[\s\S]*0\/2 steps[\s\S]*gate/, "a live frame while gate runs")
    expect(existsSync(path.join(dir, "open"))).toBe(false)
    writeFileSync(path.join(dir, "open"), "")
    expect(await weft.exited).toBe(0)
    expect(weft.output()).toMatch(/gated succeeded in/)
    expect(weft.output()).toMatch(/critical path: gate → after/)
  })

  it("in watch mode (the default on a terminal): an edit reruns the affected step, q exits 0 and leaves no process", async () => {
    const dir = folder()
    write(dir, {
      "a.txt": "a1",
      "weft.json": spec([
        { id: "a", run: "cat a.txt", cache: { inputs: ["a.txt"] } },
        { id: "gate", run: `c=$(cat g.txt 2>/dev/null); case $c in wait) ${gate};; esac`, cache: { inputs: ["g.txt"] } }
      ], "watched")
    })
    const weft = inTerminal(["watch", "weft.json", "--debounce", "20"], dir)
    // The banner says "watching" as soon as the watcher is up, which can be
    // before the first run ends: wait for the run's own summary line.
    await weft.until(/watching \d+ files?[\s\S]*watched succeeded in/, "the first run to end")
    const first = weft.output().length
    writeFileSync(path.join(dir, "a.txt"), "a2")
    await weft.until(/changed a\.txt/, "the change to be shown", first)
    // Not any "succeeded" after the change: the dashboard repaints run 1's
    // frame (its "✓ a" row and summary) when the change is shown, before run 2
    // has done anything. The rerun has ended when a frame shows a's new line
    // above a run's summary.
    await weft.until(/a2[\s\S]*watched succeeded in/, "the rerun to end, showing a's new output", first)
    expect(weft.output().slice(first)).toMatch(/✓ a\b/)
    // Now a step that is still running when q is pressed.
    writeFileSync(path.join(dir, "g.txt"), "wait")
    let pid = 0
    // g.txt may come in one batch with a late event of the earlier a.txt write ("changed a.txt, g.txt"), which the watcher rightly folds together.
    await weft.until(/changed (?:\S+, )*g\.txt/, "the gate to rerun")
    for (const deadline = performance.now() + 10_000; pid === 0 || groupMembers(pid).length === 0;) {
      if (performance.now() > deadline) throw new Error("the gate step never started")
      await new Promise((resolve) => setTimeout(resolve, 20))
      pid = pidIn(dir)
    }
    weft.child.stdin.write("q")
    expect(await weft.exited).toBe(0)
    expect(groupMembers(pid)).toEqual([])
  })
})
