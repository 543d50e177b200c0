/**
 * The dashboard's screen, rendered with ink-testing-library from a view model
 * fed a run's events: one frame per state, asserted on its text. (The
 * reporter around it, its throttle and keys are in `dashboard.test.ts`.)
 */
import { render } from "ink-testing-library"
import { createElement as h } from "react"
import { describe, expect, it } from "vitest"
import type { Event } from "../runtime/Event.ts"
import type { WatchEvent } from "../runtime/watch/WatchEvent.ts"
import { App } from "./components/App.ts"
import { Model } from "./model.ts"
import { makeTheme } from "./theme.ts"

const start: Event = {
  type: "run:start",
  time: 0,
  run: "20261125-120000-abcd",
  workflow: "ci",
  concurrency: 2,
  steps: [
    { id: "build", deps: [], estimateMs: 4000 },
    { id: "lint", deps: [] },
    { id: "test", deps: ["build"], estimateMs: 2000 }
  ]
}

/** A model fed `events` at wall-clock `now`, and the frame the screen draws from it. */
const frame = (events: ReadonlyArray<Event | WatchEvent>, options: { readonly now?: number; readonly watching?: boolean; readonly end?: { status: "succeeded" | "failed"; durationMs: number } } = {}) => {
  // The events arrive at wall-clock 0; the frame is drawn at `now`.
  let clock = 0
  const model = new Model({ now: () => clock })
  for (const event of events) {
    if (event.type.startsWith("watch:")) model.applyWatch(event as WatchEvent)
    else model.apply(event as Event)
  }
  clock = options.now ?? 1000
  if (options.end !== undefined) model.finish(options.end.status, options.end.durationMs)
  const { lastFrame, unmount } = render(
    h(App, { model, now: model.runTime(), theme: makeTheme(false), watching: options.watching ?? false, final: options.end !== undefined && !options.watching, onKey: () => {} })
  )
  const text = lastFrame() ?? ""
  unmount()
  return text
}

describe("the dashboard's frames", () => {
  it("running: the header with workflow, slots and ETA; a spinner and elapsed time of the estimate", () => {
    const text = frame([start, { type: "step:start", time: 0, step: "build", attempt: 1 }], { now: 1000 })
    expect(text).toMatch(/weft ▸ ci · run 1/)
    expect(text).toMatch(/slots 1\/2/)
    expect(text).toMatch(/ETA ~/)
    // The critical path (build → test) is marked * without colour.
    expect(text).toMatch(/⠋ build\* 1\.0s of ~4\.0s/)
    expect(text).toMatch(/0\/3 steps/)
  })

  it("workers: the worker running a step, as a badge", () => {
    const text = frame([start, { type: "step:start", time: 0, step: "build", attempt: 1, worker: "runner-2" }], { now: 1000 })
    expect(text).toMatch(/build.*\[on runner-2\]/)
  })

  it("progress: the step's bar and message", () => {
    const text = frame([start, { type: "step:start", time: 0, step: "lint", attempt: 1 }, { type: "step:progress", time: 5, step: "lint", done: 3, total: 4, message: "src/cli" }])
    expect(text).toMatch(/lint .*3\/4 src\/cli/)
  })

  it("failure: the error on the row, and the step's last log lines in its pane", () => {
    const text = frame([
      start,
      { type: "step:start", time: 0, step: "lint", attempt: 1 },
      { type: "step:log", time: 1, step: "lint", stream: "stderr", text: "src/a.ts:3 unused variable" },
      { type: "step:end", time: 2, step: "lint", status: "failed", durationMs: 2, attempts: 1, error: "lint found 1 problem" }
    ])
    expect(text).toMatch(/✗ lint .*lint found 1 problem/)
    expect(text).toMatch(/── lint · failed/)
    expect(text).toMatch(/src\/a\.ts:3 unused variable/)
  })

  it("cached and memo badges", () => {
    const text = frame([
      start,
      { type: "step:end", time: 0, step: "build", status: "cached", durationMs: 0, attempts: 0, savedMs: 3500 },
      { type: "step:start", time: 1, step: "lint", attempt: 1 },
      { type: "step:memo", time: 2, step: "lint", name: "rules", outcome: "hit", savedMs: 40 },
      { type: "step:memo", time: 3, step: "lint", name: "rules", outcome: "coalesced", savedMs: 40 }
    ])
    expect(text).toMatch(/build.*cached, saved 3\.5s/)
    expect(text).toMatch(/lint.*memo 2/)
  })

  it("the header says when permissions are off (--allow-all), and only then", () => {
    expect(frame([{ ...start, permissionsOff: true } as Event]).split("\n")[0]).toMatch(/permissions off \(--allow-all\)/)
    expect(frame([start])).not.toMatch(/permissions off/)
  })

  it("a streamed part shows as the step's latest line", () => {
    const text = frame([start, { type: "step:start", time: 0, step: "build", attempt: 1 }, { type: "step:partial", time: 5, step: "build", index: 0, text: "## Section 1: market" }])
    expect(text).toMatch(/build\*? .*## Section 1: market/)
    expect(text).toMatch(/── build · running · 1 line/)
  })

  it("summary: status, duration, critical path, parallelism and what the cache saved", () => {
    const text = frame([
      start,
      { type: "step:start", time: 0, step: "build", attempt: 1 },
      { type: "step:start", time: 0, step: "lint", attempt: 1 },
      { type: "step:end", time: 3000, step: "lint", status: "succeeded", durationMs: 3000, attempts: 1 },
      { type: "step:end", time: 4000, step: "build", status: "succeeded", durationMs: 4000, attempts: 1 },
      { type: "step:end", time: 4000, step: "test", status: "cached", durationMs: 0, attempts: 0, savedMs: 2000 },
      { type: "run:end", time: 4000, status: "succeeded", durationMs: 4000 }
    ], { end: { status: "succeeded", durationMs: 4000 } })
    expect(text).toMatch(/✓ ci succeeded in 4\.00 s/)
    expect(text).toMatch(/critical path: build → test/)
    expect(text).toMatch(/parallelism 1\.75×/)
    expect(text).toMatch(/saved 2\.0s/)
  })

  it("summary: no parallelism for a run too short for it to mean anything", () => {
    const text = frame([
      start,
      { type: "step:start", time: 0, step: "build", attempt: 1 },
      { type: "step:start", time: 0, step: "lint", attempt: 1 },
      { type: "step:end", time: 30, step: "lint", status: "succeeded", durationMs: 30, attempts: 1 },
      { type: "step:end", time: 40, step: "build", status: "succeeded", durationMs: 40, attempts: 1 },
      { type: "run:end", time: 400, status: "succeeded", durationMs: 400 }
    ], { end: { status: "succeeded", durationMs: 400 } })
    expect(text).toMatch(/✓ ci succeeded in 400 ms/)
    expect(text).not.toMatch(/parallelism/)
  })

  it("an optional step that failed says so, on its row and in the summary", () => {
    const events: Array<Event> = [
      start,
      { type: "step:start", time: 0, step: "lint", attempt: 1 },
      { type: "step:end", time: 2, step: "lint", status: "failed", durationMs: 2, attempts: 1, error: "no badge service", optional: true }
    ]
    expect(frame(events)).toMatch(/✗ lint .*\[optional\].*no badge service/)
    const end = frame([...events, { type: "run:end", time: 5, status: "succeeded", durationMs: 5 }], { end: { status: "succeeded", durationMs: 5 } })
    expect(end).toMatch(/failed \(optional\): lint/)
  })

  it("a step held back by a rate limit says so on its row, until it starts", () => {
    const waiting: Array<Event> = [
      start,
      { type: "step:ready", time: 0, step: "lint" },
      { type: "step:waiting", time: 0, step: "lint", reason: "rate limit openai" }
    ]
    expect(frame(waiting)).toMatch(/○ lint .*\[waiting: rate limit openai\]/)
    expect(frame([...waiting, { type: "step:start", time: 500, step: "lint", attempt: 1 }])).not.toMatch(/waiting/)
  })

  it("a running step whose memoized call waits for a rate limit says so, until the wait is over", () => {
    const reason = "rate limit search (memo search_papers)"
    const running: Array<Event> = [
      start,
      { type: "step:ready", time: 0, step: "lint" },
      { type: "step:start", time: 0, step: "lint", attempt: 1 },
      { type: "step:waiting", time: 5, step: "lint", reason }
    ]
    expect(frame(running)).toMatch(/lint .*\[waiting: rate limit search \(memo search_papers\)\]/)
    expect(frame([...running, { type: "step:waiting", time: 900, step: "lint", reason, over: true }])).not.toMatch(/waiting/)
  })

  it("watch banner: what changed and reruns, the reload's diff, and a definition error first", () => {
    const events: Array<Event | WatchEvent> = [
      start,
      { type: "watch:ready", time: 0, files: 12, polling: false },
      { type: "watch:change", time: 1, files: ["src/a.ts"], steps: ["lint"], interrupted: [] },
      { type: "watch:reload", time: 2, file: "weft.ts", added: ["docs"], removed: [], changed: ["test"] },
      { type: "watch:error", time: 3, file: "weft.ts", message: "weft.ts: has a syntax error at line 4" }
    ]
    const text = frame(events, { watching: true })
    expect(text).toMatch(/✗ weft\.ts does not load: still watching/)
    expect(text).toMatch(/syntax error at line 4/)
    expect(text).toMatch(/↻ changed src\/a\.ts → rerunning 1 step: lint/)
    expect(text).toMatch(/\+docs/)
    expect(text).toMatch(/~test/)
    expect(text).toMatch(/r rerun all · f rerun failed · c clear · q quit/)
    expect(text.indexOf("does not load")).toBeLessThan(text.indexOf("changed src/a.ts"))
  })
})
