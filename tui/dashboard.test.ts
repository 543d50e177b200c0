/**
 * The dashboard as the user sees it: frames drawn by Ink (debug mode, one
 * whole frame per write) on a fake 80×24 terminal, with the render timer and
 * the clock under the test's control.
 */
import chalk from "chalk"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { workflow } from "../dsl/Workflow.ts"
import type { Event, StepInfo } from "../runtime/Event.ts"
import { run } from "../runtime/Run.ts"
import type { RunResult } from "../runtime/RunState.ts"
import type { WatchControls } from "../runtime/watch/WatchEvent.ts"
import { makeDashboard, tickMs, type LiveDashboard } from "./dashboard.ts"
import { FakeStdin, FakeStdout, keys } from "./fakeTerminal.ts"
import type { DashboardOptions } from "./index.ts"

const open: Array<LiveDashboard> = []

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] })
})

afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(open.splice(0).map((d) => d.close?.()))
})

const setup = async (options: DashboardOptions = {}, columns = 80, rows = 24) => {
  const stdout = new FakeStdout(columns, rows)
  const stdin = new FakeStdin()
  const clock = { now: 0 }
  const d = makeDashboard(
    { stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, color: false, ...options },
    { debug: true, now: () => clock.now }
  )
  open.push(d)
  await d.ready
  /** The frame after the next render beat. */
  const frame = () => {
    vi.advanceTimersByTime(tickMs)
    return stdout.lastFrame()
  }
  return { d, stdout, stdin, clock, frame }
}

const steps: ReadonlyArray<StepInfo> = [
  { id: "checkout", deps: [], estimateMs: 100 },
  { id: "lint", deps: ["checkout"], estimateMs: 2000 },
  { id: "test", deps: ["checkout"], estimateMs: 5000 },
  { id: "ship", deps: ["lint", "test"], estimateMs: 1000 }
]
const runStart: Event = { type: "run:start", time: 0, run: "20260101-000000-abcd", workflow: "ci", steps, concurrency: 4 }
const result = (status: RunResult["status"], durationMs: number): RunResult => ({ status, durationMs, outputs: {}, steps: {} })

/** The log pane's part of a frame: from its title down. */
const pane = (frame: string) => frame.slice(frame.indexOf("── "))

/** Feeds events to the dashboard. */
const feed = (d: LiveDashboard, ...events: ReadonlyArray<Event>) => events.forEach((e) => d.onEvent(e))

describe("dashboard: frames", () => {
  it("puts a line on screen at once, before Ink has loaded, then a loading frame", async () => {
    const stdout = new FakeStdout()
    const d = makeDashboard({ stdout: stdout as unknown as NodeJS.WriteStream, stdin: new FakeStdin() as unknown as NodeJS.ReadStream, file: "ci.ts", color: false }, { debug: true })
    open.push(d)
    expect(stdout.writes.join("")).toContain("weft ▸ ci.ts · loading…")
    await d.ready
    expect(stdout.lastFrame()).toContain("loading…")
  })

  it("running: the command limit beside the slots, when it is lower", async () => {
    const { d, frame } = await setup()
    feed(d, { ...runStart, concurrency: 64, commandConcurrency: 2 } as Event, { type: "step:start", time: 0, step: "checkout", attempt: 1 })
    expect(frame()).toContain("slots 1/64 (commands ≤2)")
  })

  it("running: a spinner turning on the render beat, elapsed of the estimate, slots in use, the ETA", async () => {
    const { d, clock, frame } = await setup()
    feed(d, runStart, { type: "step:start", time: 0, step: "checkout", attempt: 1 })
    clock.now = 1200
    const first = frame()
    expect(first).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] checkout\*? +1\.2s of ~100ms/)
    expect(first).toContain("slots 1/4")
    // checkout is 1.1 s past its estimate (so given half that again, 550 ms), then test (5 s) beside lint, then ship (1 s).
    expect(first).toContain("ETA ~6.5s")
    clock.now = 1300
    const second = frame()
    const spin = (f: string) => f.match(/([⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]) checkout/)![1]
    expect(spin(second)).not.toBe(spin(first))
  })

  it("progress: the step's bar, count and message", async () => {
    const { d, frame } = await setup()
    feed(d, runStart,
      { type: "step:start", time: 0, step: "checkout", attempt: 1 },
      { type: "step:progress", time: 5, step: "checkout", done: 3, total: 10, message: "cloning objects" })
    expect(frame()).toContain("███░░░░░░░ 3/10 cloning objects")
  })

  it("failure: the error on the row, and the error under the step's last log lines in the pane", async () => {
    const { d, frame } = await setup()
    feed(d, runStart, { type: "step:start", time: 0, step: "checkout", attempt: 1 })
    for (let i = 1; i <= 6; i++) feed(d, { type: "step:log", time: i, step: "checkout", stream: "stderr", text: `fatal: attempt ${i}` })
    feed(d, { type: "step:end", time: 10, step: "checkout", status: "failed", durationMs: 10, attempts: 1, error: "git clone exited with code 128" })
    const f = frame()
    expect(f).toMatch(/✗ checkout\*? +10ms +git clone exited with code 128/)
    const pane = f.slice(f.indexOf("── checkout · failed"))
    expect(pane).toContain("fatal: attempt 6")
    expect(pane).toContain("✗ git clone exited with code 128")
    expect(pane.indexOf("fatal: attempt 6")).toBeLessThan(pane.indexOf("✗ git clone"))
  })

  it("cached and memo badges, and the attempt number after a retry", async () => {
    const { d, frame } = await setup()
    feed(d, runStart,
      { type: "step:end", time: 1, step: "checkout", status: "cached", durationMs: 0, attempts: 0, savedMs: 2300 },
      { type: "step:start", time: 1, step: "lint", attempt: 1 },
      { type: "step:retry", time: 2, step: "lint", attempt: 1, error: "flaky", delayMs: 10 },
      { type: "step:start", time: 12, step: "lint", attempt: 2 },
      { type: "step:start", time: 1, step: "test", attempt: 1 },
      { type: "step:memo", time: 3, step: "test", name: "fetch", outcome: "hit", savedMs: 40 },
      { type: "step:memo", time: 3, step: "test", name: "fetch", outcome: "coalesced", savedMs: 40 })
    const f = frame()
    expect(f).toMatch(/✓ checkout.*\[cached, saved 2\.3s\]/)
    expect(f).toMatch(/lint.*\[attempt 2\]/)
    expect(f).toMatch(/test.*\[memo 2\]/)
  })

  it("summary: status, critical path, parallelism and time saved; the keys gone; drawing stopped", async () => {
    const { d, stdout, frame } = await setup()
    feed(d, runStart,
      { type: "step:start", time: 0, step: "checkout", attempt: 1 },
      { type: "step:end", time: 100, step: "checkout", status: "succeeded", durationMs: 100, attempts: 1 },
      { type: "step:end", time: 100, step: "lint", status: "cached", durationMs: 0, attempts: 0, savedMs: 1500 },
      { type: "step:start", time: 100, step: "test", attempt: 1 },
      { type: "step:memo", time: 150, step: "test", name: "fetch", outcome: "hit", savedMs: 500 },
      { type: "step:end", time: 900, step: "test", status: "succeeded", durationMs: 800, attempts: 1 },
      { type: "step:start", time: 900, step: "ship", attempt: 1 },
      { type: "step:end", time: 1000, step: "ship", status: "succeeded", durationMs: 100, attempts: 1 },
      { type: "run:end", time: 1000, status: "succeeded", durationMs: 1000 })
    await d.onEnd!(result("succeeded", 1000))
    const f = stdout.lastFrame()
    expect(f).toContain("✓ ci succeeded in 1.00 s · run 20260101-000000-abcd")
    expect(f).toContain("critical path: checkout → test → ship (1.00 s)")
    expect(f).toContain("parallelism 1.00×")
    expect(f).toContain("saved 2.00 s: cache 1.50 s, memo 500 ms (memo answered fetch 1/1)")
    expect(f).not.toContain("↑/↓ select")
    // What stays on screen is the rows and the summary: no log pane when nothing failed.
    expect(f).not.toContain("── ")
    const writes = stdout.writes.length
    feed(d, { type: "run:warning", time: 1, message: "late" })
    frame()
    expect(stdout.writes.length).toBe(writes)
  })

  it("a failed run's last frame keeps the failed step's error under the rows", async () => {
    const { d, stdout } = await setup()
    feed(d, runStart,
      { type: "step:start", time: 0, step: "checkout", attempt: 1 },
      { type: "step:log", time: 1, step: "checkout", stream: "stderr", text: "fatal: repository not found" },
      { type: "step:end", time: 2, step: "checkout", status: "failed", durationMs: 2, attempts: 1, error: "exit code 128" },
      { type: "run:end", time: 2, status: "failed", durationMs: 2 })
    await d.onEnd!(result("failed", 2))
    const f = pane(stdout.lastFrame())
    expect(f).toContain("── checkout · failed")
    expect(f).toContain("fatal: repository not found")
    expect(f).toContain("✗ exit code 128")
    expect(f).toContain("✗ ci failed in 2 ms")
  })

  it("watch banner: what changed and reruns, the reload's diff, a definition error first and loud", async () => {
    const controls: WatchControls = { rerunAll: vi.fn(), rerunFailed: vi.fn(), clear: vi.fn(), quit: vi.fn() }
    const { d, frame } = await setup({ controls })
    feed(d, runStart)
    d.onWatch!({ type: "watch:ready", time: 0, files: 12, polling: false })
    d.onWatch!({ type: "watch:change", time: 1, files: ["src/a.ts"], steps: ["lint", "ship"], interrupted: ["test"] })
    d.onWatch!({ type: "watch:reload", time: 2, file: "weft.ts", added: ["e2e"], removed: ["old"], changed: ["lint"] })
    d.onWatch!({ type: "watch:error", time: 3, file: "weft.ts", message: "step \"ship\": needs \"tset\", which is not a step.\nDid you mean \"test\"?" })
    const lines = frame().split("\n")
    expect(lines[2]).toBe("✗ weft.ts does not load: still watching, running the last good definition")
    expect(lines[3]).toContain("needs \"tset\"")
    const text = lines.join("\n")
    expect(text).toContain("↻ changed src/a.ts → rerunning 2 steps: lint, ship (interrupted test)")
    expect(text).toContain("⟳ reloaded weft.ts: +e2e, -old, ~lint")
    expect(text).toContain("watching 12 files")
    expect(text).toContain("r rerun all · f rerun failed · c clear · q quit")
  })
})

describe("dashboard: size", () => {
  const many = Array.from({ length: 500 }, (_, i): StepInfo => ({ id: `s${i}`, deps: i === 0 ? [] : [`s${i - 1}`] }))

  it("500 steps at 80×24: the frame fits, the selected row stays visible, hidden rows are counted", async () => {
    const { d, stdin, frame } = await setup()
    feed(d, { ...runStart, steps: many }, { type: "step:start", time: 0, step: "s0", attempt: 1 })
    const first = frame()
    expect(first.split("\n").length).toBeLessThanOrEqual(23)
    expect(first).toMatch(/… \d+ more/)
    for (let i = 0; i < 40; i++) stdin.type(keys.down)
    const moved = frame()
    expect(moved.split("\n").length).toBeLessThanOrEqual(23)
    expect(moved).toMatch(/› +40 · s40\b/)
    expect(moved).toContain("── s40 ·")
    // The running step stays on screen too.
    expect(moved).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] s0\b/)
    for (const line of moved.split("\n")) expect(line.length).toBeLessThanOrEqual(80)
  })

  it("follows a resize: a shorter terminal gets a shorter frame", async () => {
    const { d, stdout, frame } = await setup()
    feed(d, { ...runStart, steps: many })
    // One row short of the terminal: a full-height frame makes Ink clear the screen on every change.
    expect(frame().split("\n").length).toBe(23)
    stdout.resize(60, 12)
    // Ink re-renders on the resize event, on React's next turn, and frames are
    // throttled on the (fake) timers: give it turns and throttle ticks until
    // it redraws, rather than one turn, which a loaded machine outran.
    for (let turn = 0; turn < 100 && stdout.lastFrame().split("\n").length > 11; turn++) {
      vi.advanceTimersByTime(tickMs)
      await new Promise((resolve) => setImmediate(resolve))
    }
    const f = stdout.lastFrame()
    expect(f.split("\n").length).toBeLessThanOrEqual(11)
    for (const line of f.split("\n")) expect(line.length).toBeLessThanOrEqual(60)
  })
})

describe("dashboard: colour", () => {
  const level = chalk.level
  afterEach(() => {
    chalk.level = level
  })

  const draw = async (color: boolean) => {
    chalk.level = 1
    const { d, stdout, frame } = await setup({ color })
    feed(d, runStart,
      { type: "step:start", time: 0, step: "checkout", attempt: 1 },
      { type: "step:log", time: 1, step: "checkout", stream: "stdout", text: "\u001B[32mgreen from the tool\u001B[0m" },
      { type: "step:end", time: 2, step: "checkout", status: "failed", durationMs: 2, attempts: 1, error: "boom" })
    frame()
    return stdout.writes.join("")
  }

  it("NO_COLOR (color: false): not one escape sequence, not even the step's own", async () => {
    const all = await draw(false)
    expect(all).toContain("green from the tool")
    expect(all).not.toContain("\u001B")
  })

  it("with colour, the frames are coloured (so the check above can fail)", async () => {
    expect(await draw(true)).toContain("\u001B[")
  })
})

describe("dashboard: rendering cost", () => {
  it("events only update the model: a burst of 5,000 costs one frame on the next beat", async () => {
    const { d, frame } = await setup()
    feed(d, runStart, { type: "step:start", time: 0, step: "checkout", attempt: 1 })
    frame()
    const before = d.renders()
    for (let i = 0; i < 5000; i++) d.onEvent({ type: "step:log", time: i, step: "checkout", stream: "stdout", text: `line ${i}` })
    expect(d.renders()).toBe(before)
    expect(frame()).toContain("line 4999")
    expect(d.renders()).toBe(before + 1)
  })

  it("draws nothing while nothing changes: a finished run waiting in watch mode costs no frames", async () => {
    const controls = { rerunAll: vi.fn(), rerunFailed: vi.fn(), clear: vi.fn(), quit: vi.fn() }
    const { d, clock } = await setup({ controls })
    feed(d, runStart, { type: "run:end", time: 10, status: "succeeded", durationMs: 10 })
    await d.onEnd!(result("succeeded", 10))
    vi.advanceTimersByTime(tickMs)
    const before = d.renders()
    clock.now = 5000
    vi.advanceTimersByTime(tickMs * 20)
    expect(d.renders()).toBe(before)
    d.onWatch!({ type: "watch:idle", time: 5000 })
    vi.advanceTimersByTime(tickMs)
    expect(d.renders()).toBe(before + 1)
  })

  it("while steps run, redraws on the spinner beat even without events", async () => {
    const { d, clock } = await setup()
    feed(d, runStart, { type: "step:start", time: 0, step: "checkout", attempt: 1 })
    vi.advanceTimersByTime(tickMs)
    const before = d.renders()
    for (let i = 1; i <= 10; i++) {
      clock.now = i * 100
      vi.advanceTimersByTime(tickMs)
    }
    expect(d.renders()).toBe(before + 10)
  })
})

describe("dashboard: keys", () => {
  it("Ctrl-C and q cancel the run through onInterrupt, and the header says so", async () => {
    const onInterrupt = vi.fn()
    const { d, stdin, stdout } = await setup({ onInterrupt })
    feed(d, runStart)
    stdin.type(keys.ctrlC)
    expect(onInterrupt).toHaveBeenCalledTimes(1)
    expect(stdout.lastFrame()).toContain("cancelling…")
    stdin.type("q")
    expect(onInterrupt).toHaveBeenCalledTimes(2)
  })

  it("in watch mode r, f, c and q (and Ctrl-C) call the controls", async () => {
    const controls = { rerunAll: vi.fn(), rerunFailed: vi.fn(), clear: vi.fn(), quit: vi.fn() }
    const onInterrupt = vi.fn()
    const { d, stdin } = await setup({ controls, onInterrupt })
    feed(d, runStart)
    for (const key of ["r", "f", "c", "q", keys.ctrlC]) stdin.type(key)
    expect([controls.rerunAll, controls.rerunFailed, controls.clear].map((f) => f.mock.calls.length)).toEqual([1, 1, 1])
    expect(controls.quit).toHaveBeenCalledTimes(2)
    expect(onInterrupt).not.toHaveBeenCalled()
  })

  it("↑/↓ select, enter expands the log pane, PgUp/PgDn scroll it", async () => {
    const { d, stdin, stdout, frame } = await setup()
    feed(d, runStart)
    for (let i = 0; i < 100; i++) feed(d, { type: "step:log", time: i, step: "lint", stream: "stdout", text: `lint line ${i}` })
    frame()
    stdin.type(keys.down)
    expect(stdout.lastFrame()).toContain("── lint · pending · 100 lines")
    const collapsed = stdout.lastFrame().split("\n").filter((l) => l.includes("lint line")).length
    stdin.type(keys.enter)
    const expanded = stdout.lastFrame().split("\n").filter((l) => l.includes("lint line"))
    expect(expanded.length).toBeGreaterThan(collapsed)
    expect(expanded.at(-1)).toContain("lint line 99")
    stdin.type(keys.pageUp)
    const back = pane(stdout.lastFrame())
    expect(back).toMatch(/── lint · pending · 100 lines · \d+ back/)
    expect(back).not.toContain("lint line 99")
    stdin.type(keys.pageDown)
    expect(pane(stdout.lastFrame())).toContain("lint line 99")
    stdin.type(keys.up)
    expect(stdout.lastFrame()).toContain("── checkout ·")
  })
})

describe("dashboard: lifecycle", () => {
  it("in watch mode onEnd keeps drawing: the next run is run 2; close() stops it", async () => {
    const controls = { rerunAll: vi.fn(), rerunFailed: vi.fn(), clear: vi.fn(), quit: vi.fn() }
    const { d, stdout, frame } = await setup({ controls, runNumber: 1 })
    feed(d, runStart, { type: "run:end", time: 5, status: "succeeded", durationMs: 5 })
    await d.onEnd!(result("succeeded", 5))
    expect(stdout.lastFrame()).toContain("✓ ci succeeded")
    feed(d, runStart)
    expect(frame()).toMatch(/^weft ▸ ci · run 2 · /)
    await d.close!()
    const writes = stdout.writes.length
    feed(d, { type: "run:warning", time: 1, message: "after close" })
    vi.advanceTimersByTime(tickMs * 3)
    expect(stdout.writes.length).toBe(writes)
  })

  it("draws a real run to the end: every step and the summary SummaryBuilder computes", async () => {
    vi.useRealTimers()
    const stdout = new FakeStdout(80, 24)
    const d = makeDashboard({ stdout: stdout as unknown as NodeJS.WriteStream, stdin: new FakeStdin() as unknown as NodeJS.ReadStream, color: false }, { debug: true })
    open.push(d)
    const wf = workflow("real", { concurrency: 2 })
      .step("a", (_, ctx) => {
        ctx.log("hello from a")
        return 1
      })
      .step("b", { needs: ["a"] }, ({ a }) => a + 1)
      .step("c", { needs: ["a"] }, ({ a }) => a + 2)
    const outcome = await run(wf, { reporter: d })
    expect(outcome.status).toBe("succeeded")
    const f = stdout.lastFrame()
    expect(f).toMatch(/0 ✓ a\*? .*hello from a/)
    expect(f).toMatch(/1 ✓ b\*? /)
    expect(f).toMatch(/✓ c\*? /)
    expect(f).toContain("3/3 steps")
    expect(f).toContain("✓ real succeeded in")
    expect(f).toContain(`critical path: ${d.model.summary!.criticalPath.join(" → ")}`)
  })
})
