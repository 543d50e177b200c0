/**
 * `weft watch` through `main`, in-process: flags, the JSON stream of runs and
 * watch events, keys as lines on stdin, signals, and exit codes.
 */
import { EventEmitter } from "node:events"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { PassThrough } from "node:stream"
import { afterAll, describe, expect, it } from "vitest"
import type { Event } from "../runtime/Event.ts"
import { groupAlive } from "../runtime/Process.ts"
import type { WatchEvent } from "../runtime/watch/WatchEvent.ts"
import { folder, removeFolders, spec, write } from "../test/fixtures/watch/harness.ts"
import { main } from "./main.ts"

afterAll(removeFolders)

interface Started {
  readonly dir: string
  readonly stdin: PassThrough
  readonly signals: EventEmitter
  readonly out: () => string
  readonly err: () => string
  readonly events: () => Array<Event | WatchEvent>
  readonly code: Promise<number>
  readonly until: (check: (events: Array<Event | WatchEvent>) => boolean, what: string) => Promise<void>
}

const start = (dir: string, args: ReadonlyArray<string>): Started => {
  let out = ""
  let err = ""
  const stdin = new PassThrough()
  const signals = new EventEmitter()
  const code = main(["watch", ...args], {
    stdout: (text) => void (out += text),
    stderr: (text) => void (err += text),
    cwd: dir,
    signals,
    stdin,
    isTTY: false,
    env: { ...process.env, CI: "" }
  })
  const events = () => out.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Event | WatchEvent)
  const until = async (check: (events: Array<Event | WatchEvent>) => boolean, what: string) => {
    const deadline = performance.now() + 8000
    while (!check(events())) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${out}\n${err}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  return { dir, stdin, signals, out: () => out, err: () => err, events, code, until }
}

const idles = (events: Array<Event | WatchEvent>) => events.filter((e) => e.type === "watch:idle").length

describe("weft watch --reporter json", () => {
  it("--trace writes each run's trace, the rerun replacing the first", async () => {
    const dir = folder()
    write(dir, { "a.txt": "a1", "weft.json": spec([{ id: "a", run: "cat a.txt", cache: { inputs: ["a.txt"] } }]) })
    const w = start(dir, ["weft.json", "--reporter", "json", "--debounce", "20", "--trace", "trace.json"])
    await w.until((events) => idles(events) === 1, "the first run")
    write(dir, { "a.txt": "a2" })
    await w.until((events) => idles(events) === 2, "the rerun")
    w.stdin.write("q\n")
    expect(await w.code).toBe(0)
    const runs = w.events().filter((e) => e.type === "run:start").map((e) => (e as Extract<Event, { type: "run:start" }>).run)
    const trace = JSON.parse(readFileSync(path.join(dir, "trace.json"), "utf8")) as { traceEvents: Array<{ ph: string; name: string; args?: Record<string, unknown> }> }
    const text = JSON.stringify(trace)
    expect(text).toContain(runs[1]!)
    expect(text).not.toContain(runs[0]!)
    expect(trace.traceEvents.filter((e) => e.ph === "X").map((e) => e.name)).toEqual(["a"])
  })

  it("prints each run and the watch events as JSON lines, reruns on a change, and exits 0 on q", async () => {
    const dir = folder()
    write(dir, {
      "a.txt": "a1",
      "weft.json": spec([
        { id: "a", run: "cat a.txt", cache: { inputs: ["a.txt"] } },
        { id: "b", run: "echo b" }
      ])
    })
    const w = start(dir, ["weft.json", "--reporter", "json", "--debounce", "20"])
    await w.until((events) => idles(events) === 1, "the first run")
    write(dir, { "a.txt": "a2" })
    await w.until((events) => idles(events) === 2, "the rerun")
    w.stdin.write("q\n")
    expect(await w.code).toBe(0)
    const types = w.events().map((e) => e.type)
    expect(types[0]).toBe("watch:ready")
    expect(types.filter((t) => t === "run:start")).toHaveLength(2)
    expect(types.filter((t) => t === "run:end")).toHaveLength(2)
    expect(w.events().find((e) => e.type === "watch:change")).toMatchObject({ files: ["a.txt"], steps: ["a"] })
    const ends = w.events().filter((e): e is Extract<Event, { type: "step:end" }> => e.type === "step:end")
    // b is kept from the first run: it ends cached without running.
    expect(ends.map((e) => `${e.step} ${e.status}`).sort()).toEqual(["a succeeded", "a succeeded", "b cached", "b succeeded"])
    expect(w.err()).toBe("")
  })

  it("Ctrl-C (SIGINT) cancels the running step, leaves no process behind, and exits 130", async () => {
    const dir = folder()
    write(dir, { "weft.json": spec([{ id: "slow", run: "echo $$ > pid.txt; sleep 30" }]) })
    const w = start(dir, ["weft.json", "--reporter", "json"])
    await w.until((events) => events.some((e) => e.type === "step:start"), "the step to start")
    let pid = 0
    await w.until(() => {
      try {
        pid = Number(readFileSync(path.join(dir, "pid.txt"), "utf8"))
      } catch {}
      return pid > 0
    }, "the pid")
    w.signals.emit("SIGINT", "SIGINT")
    expect(await w.code).toBe(130)
    expect(groupAlive(pid)).toBe(false)
    expect(w.err()).toContain("Ctrl-C: stopping")
    expect(w.events().filter((e) => e.type === "step:end")).toMatchObject([{ step: "slow", status: "cancelled" }])
  })

  it("SIGTERM stops it the same way, with exit code 143", async () => {
    const dir = folder()
    write(dir, { "weft.json": spec([{ id: "a", run: "true" }]) })
    const w = start(dir, ["weft.json", "--reporter", "json"])
    await w.until((events) => idles(events) === 1, "the first run")
    w.signals.emit("SIGTERM", "SIGTERM")
    expect(await w.code).toBe(143)
    expect(w.err()).toContain("SIGTERM: stopping")
  })

  it("plain: watch events as short lines", async () => {
    const dir = folder()
    write(dir, { "a.txt": "a1", "weft.json": spec([{ id: "a", run: "cat a.txt", cache: { inputs: ["a.txt"] } }]) })
    const w = start(dir, ["weft.json", "--reporter", "plain", "--debounce", "20"])
    const lines = () => w.out().split("\n")
    const untilLine = async (text: string) => {
      const deadline = performance.now() + 8000
      while (!lines().includes(text)) {
        if (performance.now() > deadline) throw new Error(`no line ${JSON.stringify(text)} in:\n${w.out()}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    await untilLine("weft: waiting for changes (r rerun all, f rerun failed, c clear, q quit)")
    write(dir, { "a.txt": "a2" })
    await untilLine("weft: changed a.txt: rerunning a")
    await untilLine("a │ a2")
    w.stdin.write("q\n")
    expect(await w.code).toBe(0)
    expect(lines()).toContain("weft: watching 2 files")
  })
})

describe("weft watch: mistakes", () => {
  it("a bad flag or a workflow that does not load is exit code 2 with a message, no stack", async () => {
    const dir = folder()
    write(dir, { "weft.json": spec([{ id: "a", run: "true", needs: ["b"] }]) })
    const bad = start(dir, ["weft.json", "--debounce", "soon"])
    expect(await bad.code).toBe(2)
    expect(bad.err()).toContain(`--debounce must be a whole number of milliseconds, like --debounce 100, not "soon"`)
    const broken = start(dir, ["weft.json", "--reporter", "json"])
    expect(await broken.code).toBe(2)
    expect(broken.err()).toContain(`step "a": needs "b", which is not a step of this workflow`)
    expect(broken.err()).not.toMatch(/^\s+at /m)
  })
})
