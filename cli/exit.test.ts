/**
 * weft exits when its run has ended and its output is written, whatever a
 * step left keeping Node's event loop alive (test/fixtures/cli/leaves-open.ts
 * leaves 60 s timers): after a run that succeeds, a step its timeout
 * interrupted, Ctrl-C (over pipes and with the dashboard in a terminal), and
 * `q` in watch mode. Bounds are wide (15 s against 60 s timers) for a
 * loaded machine.
 */
import { existsSync } from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import type { EventOf } from "../runtime/Event.ts"
import { eventsOf, fixtures, removeTempDirs, repoRoot, startWeft, tempDir, waitFor, type RunningWeft, type WeftResult } from "../test/fixtures/cli/harness.ts"
import { inTerminal, killLaunched, launch } from "../test/fixtures/terminal.ts"

afterAll(removeTempDirs)
afterEach(killLaunched)

const file = path.join(fixtures, "leaves-open.ts")
/** Far below the 60 s the fixture's timers would keep weft alive. */
const promptlyMs = 15_000

let started: Array<RunningWeft> = []
afterEach(() => {
  for (const w of started.splice(0)) w.child.kill("SIGKILL")
})

/** `weft …` with the fixture's variant `leave`, its store in a fresh folder; resolves with the result and how long it took. */
const timed = async (args: ReadonlyArray<string>, leave: string, env: Record<string, string> = {}, slowReaderMs = 0) => {
  const w = startWeft(args, { env: { WEFT_LEAVE: leave, WEFT_DIR: tempDir("weft-exit-"), ...env } })
  started.push(w)
  if (slowReaderMs > 0) {
    // The pipe fills while nobody reads: weft's last writes wait in it (or in Node) when it is done.
    w.child.stdout.pause()
    setTimeout(() => w.child.stdout.resume(), slowReaderMs)
  }
  const from = performance.now()
  const r = await w.exited
  return { r, ms: performance.now() - from }
}

const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

const statuses = (stdout: string) =>
  Object.fromEntries(eventsOf(stdout).filter((e): e is EventOf<"step:end"> => e.type === "step:end").map((e) => [e.step, e.status]))

describe("weft run exits when the run has ended", () => {
  it("a step that succeeds leaving a 60 s timer: exit 0 at once, saying a step left a timer open", async () => {
    const { r, ms } = await timed(["run", file, "--reporter", "json", "--no-cache"], "timer")
    expect(r.code, shown(r)).toBe(0)
    expect(ms).toBeLessThan(promptlyMs)
    expect(statuses(r.stdout)).toEqual({ leaves: "succeeded", after: "succeeded" })
    expect(eventsOf(r.stdout).at(-1)).toMatchObject({ type: "run:end", status: "succeeded" })
    expect(r.stderr).toMatch(/^weft: 1 timer that a step started was still open when the run ended; exiting anyway$/m)
  })

  it("a step interrupted by its timeout, its own 60 s timer pending: exit 1 at once", async () => {
    const { r, ms } = await timed(["run", file, "--reporter", "json", "--no-cache"], "timeout")
    expect(r.code, shown(r)).toBe(1)
    expect(ms).toBeLessThan(promptlyMs)
    expect(statuses(r.stdout)).toEqual({ leaves: "failed", after: "skipped" })
    expect(r.stderr).toMatch(/1 timer that a step started was still open/)
  })

  it("nothing left open: no word about it", async () => {
    const { r } = await timed(["run", path.join(fixtures, "keep-going.ts"), "--reporter", "json", "--no-cache"], "none")
    expect(r.code, shown(r)).toBe(1)
    expect(r.stderr).not.toMatch(/still open/)
  })

  it("cuts no output: every line of a step that printed 20,000 reaches a slow reader's pipe, then run:end", async () => {
    const { r, ms } = await timed(["run", file, "--reporter", "json", "--no-cache"], "lines", { WEFT_LINES: "20000" }, 1000)
    expect(r.code, shown(r).slice(-2000)).toBe(0)
    expect(ms).toBeLessThan(promptlyMs)
    const logs = eventsOf(r.stdout).filter((e): e is EventOf<"step:log"> => e.type === "step:log" && e.step === "leaves")
    expect(logs).toHaveLength(20_000)
    expect(logs.at(-1)!.text).toMatch(/^line 19999 /)
    expect(eventsOf(r.stdout).at(-1)).toMatchObject({ type: "run:end", status: "succeeded" })
  })

  it("Ctrl-C (SIGINT over pipes) while a step waits on its own 60 s timer: one Ctrl-C, exit 130 at once", async () => {
    const mark = path.join(tempDir("weft-exit-"), "started")
    const w = startWeft(["run", file, "--reporter", "json", "--no-cache"], {
      env: { WEFT_LEAVE: "hang", WEFT_MARK: mark, WEFT_DIR: tempDir("weft-exit-") }
    })
    started.push(w)
    await waitFor(() => existsSync(mark), 10_000, "the step to start")
    const from = performance.now()
    w.child.kill("SIGINT")
    const r = await w.exited
    expect(r.code, shown(r)).toBe(130)
    expect(performance.now() - from).toBeLessThan(promptlyMs)
    expect(statuses(r.stdout)).toEqual({ leaves: "cancelled", after: "cancelled" })
    expect(r.stderr).not.toMatch(/forced exit/)
  })

  it("Ctrl-C on the dashboard in a terminal: it says cancelled and exits 130, no second Ctrl-C needed", async () => {
    const dir = tempDir("weft-exit-")
    const mark = path.join(dir, "started")
    const weft = inTerminal(["run", file, "--no-cache"], repoRoot, { WEFT_LEAVE: "hang", WEFT_MARK: mark, WEFT_DIR: dir })
    await waitFor(() => existsSync(mark), 10_000, "the step to start")
    const from = performance.now()
    weft.child.stdin.write("\x03")
    const code = await Promise.race([weft.exited, new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), promptlyMs))])
    expect(code, weft.output()).toBe(130)
    expect(performance.now() - from).toBeLessThan(promptlyMs)
    expect(weft.output()).toMatch(/cancelled/)
    expect(weft.output()).not.toMatch(/forced exit/)
  })
})

describe("weft watch exits when it quits", () => {
  it("q after a run whose step left a 60 s timer: exit 0 at once", async () => {
    const dir = tempDir("weft-exit-")
    const w = launch("node", [path.join(repoRoot, "bin/weft.js"), "watch", file, "--reporter", "json", "--no-cache"], repoRoot, {
      WEFT_LEAVE: "timer",
      WEFT_DIR: dir
    })
    await w.until(/"type":"watch:idle"/, "the first run to end")
    const from = performance.now()
    w.child.stdin.write("q\n")
    const code = await Promise.race([w.exited, new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), promptlyMs))])
    expect(code, w.output()).toBe(0)
    expect(performance.now() - from).toBeLessThan(promptlyMs)
  })

  it("Ctrl-C on the dashboard in a terminal while a step waits on its own timer: exits at once", async () => {
    const dir = tempDir("weft-exit-")
    const mark = path.join(dir, "started")
    const weft = inTerminal(["watch", file, "--no-cache"], repoRoot, { WEFT_LEAVE: "hang", WEFT_MARK: mark, WEFT_DIR: dir })
    await waitFor(() => existsSync(mark), 10_000, "the step to start")
    weft.child.stdin.write("\x03")
    const code = await Promise.race([weft.exited, new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), promptlyMs))])
    // The watch dashboard takes Ctrl-C as its quit key (tui/dashboard.test.ts): 0, as q.
    expect(code, weft.output()).toBe(0)
    expect(weft.output()).toMatch(/leaves-open cancelled/)
  })
})
