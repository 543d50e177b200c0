/**
 * Watch sessions against real files and real chokidar (reliability plan
 * tests 19-21, in-process): editor save patterns, bursts, changes while a
 * step runs, workflow edits, self-writing steps, the inotify limit, and
 * quitting without leaving a process behind.
 */
import { EventEmitter } from "node:events"
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { watch as chokidarWatch, type ChokidarOptions } from "chokidar"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { groupMembers } from "../../test/fixtures/cli/harness.ts"
import { groupAlive } from "../Process.ts"
import { dslIndex, endsOf, folder, logsOf, read, removeFolders, spec, watching, write, type Watching } from "../../test/fixtures/watch/harness.ts"
import type { FileWatcher, WatchFactory } from "./Watcher.ts"

afterAll(removeFolders)

let open: Array<Watching> = []
const watch = async (...args: Parameters<typeof watching>) => {
  const w = await watching(...args)
  open.push(w)
  return w
}
afterEach(async () => {
  for (const w of open.splice(0)) await w.session.close()
})

/** a reads a.txt, b reads b.txt, c needs a. */
const abc = (dir: string) => {
  write(dir, {
    "a.txt": "a1",
    "b.txt": "b1",
    "weft.json": spec([
      { id: "a", run: "cat a.txt", cache: { inputs: ["a.txt"] } },
      { id: "b", run: "cat b.txt", cache: { inputs: ["b.txt"] } },
      { id: "c", run: "echo c", needs: ["a"] }
    ])
  })
}

describe("editor save patterns", () => {
  it("an atomic save (write a temporary file, rename it over) reruns the affected step and its dependents once, and keeps the rest", async () => {
    const dir = folder()
    abc(dir)
    const w = await watch(dir, "weft.json")
    await w.idle(1)
    writeFileSync(path.join(dir, "a.txt.tmp"), "a2")
    renameSync(path.join(dir, "a.txt.tmp"), path.join(dir, "a.txt"))
    await w.idle(2)
    expect(await w.quietFor(200)).toBe(0)
    expect(w.count("run:start")).toBe(2)
    expect(w.count("step:start", "a")).toBe(2)
    expect(w.count("step:start", "c")).toBe(2)
    expect(w.count("step:start", "b")).toBe(1)
    // Kept, not a cache hit: a hit would replay its log line.
    expect(endsOf(w.events, "b")).toEqual(["succeeded", "cached"])
    expect(logsOf(w.events, "b")).toEqual(["b1"])
    expect(logsOf(w.events, "a")).toEqual(["a1", "a2"])
    const change = w.events.find((e) => e.type === "watch:change")
    expect(change).toMatchObject({ files: ["a.txt"], steps: ["a", "c"], interrupted: [] })
  })

  it("a file deleted and re-created at once reruns the step once, with the new content and no missing-file failure", async () => {
    const dir = folder()
    abc(dir)
    const w = await watch(dir, "weft.json")
    await w.idle(1)
    rmSync(path.join(dir, "a.txt"))
    writeFileSync(path.join(dir, "a.txt"), "a2")
    await w.idle(2)
    expect(await w.quietFor(200)).toBe(0)
    expect(w.count("run:start")).toBe(2)
    expect(endsOf(w.events, "a")).toEqual(["succeeded", "succeeded"])
    expect(logsOf(w.events, "a")).toEqual(["a1", "a2"])
  })

  it("a new file that a step's glob matches reruns it", async () => {
    const dir = folder()
    mkdirSync(path.join(dir, "src"))
    write(dir, {
      "src/one.txt": "1",
      "weft.json": spec([{ id: "list", run: "cat src/*.txt", cache: { inputs: ["src/*.txt"] } }])
    })
    const w = await watch(dir, "weft.json")
    await w.idle(1)
    writeFileSync(path.join(dir, "src/two.txt"), "2")
    await w.idle(2)
    expect(logsOf(w.events, "list")).toEqual(["1", "12"])
  })

  it("a new folder of matching files (a glob's base created later) is picked up", async () => {
    const dir = folder()
    write(dir, { "weft.json": spec([{ id: "gen", run: "cat gen/deep/*.txt 2>/dev/null; true", cache: { inputs: ["gen/**/*.txt"] } }]) })
    const w = await watch(dir, "weft.json")
    await w.idle(1)
    mkdirSync(path.join(dir, "gen/deep"), { recursive: true })
    writeFileSync(path.join(dir, "gen/deep/x.txt"), "x")
    await w.idle(2)
    expect(logsOf(w.events, "gen")).toEqual(["x"])
  })

  it("300 files changed at once make exactly one rerun", async () => {
    const dir = folder()
    mkdirSync(path.join(dir, "many"))
    for (let i = 0; i < 300; i++) writeFileSync(path.join(dir, `many/${i}.txt`), "0")
    write(dir, { "weft.json": spec([{ id: "count", run: "cat many/*.txt | wc -c", cache: { inputs: ["many/*.txt"] } }]) })
    const w = await watch(dir, "weft.json", { debounceMs: 100 })
    await w.idle(1)
    for (let i = 0; i < 300; i++) writeFileSync(path.join(dir, `many/${i}.txt`), "11")
    await w.idle(2)
    expect(await w.quietFor(300)).toBe(0)
    expect(w.count("run:start")).toBe(2)
    expect(w.count("watch:change")).toBe(1)
    expect(logsOf(w.events, "count").map((line) => line.trim())).toEqual(["300", "600"])
  })

  it("an edit to a file no step reads reruns nothing and says nothing", async () => {
    const dir = folder()
    abc(dir)
    write(dir, { "notes.md": "x" })
    const w = await watch(dir, "weft.json")
    await w.idle(1)
    write(dir, { "notes.md": "y", "a.txt.bak": "z" })
    expect(await w.quietFor(300)).toBe(0)
    expect(w.count("watch:change")).toBe(0)
  })
})

/** Waits until `pid.txt` in `dir` holds a pid other than `previous`. */
const nextPid = async (w: Watching, previous?: number): Promise<number> => {
  let pid: number | undefined
  await w.until(() => {
    try {
      pid = Number(readFileSync(path.join(w.dir, "pid.txt"), "utf8"))
    } catch {
      return false
    }
    return Number.isInteger(pid) && pid > 0 && pid !== previous
  }, "the step's pid")
  return pid!
}

/**
 * `slow` sleeps while in.txt says "slow", recording its shell's pid (the
 * process group's leader) once it has read in.txt, which it reads once.
 */
const sleeper = (dir: string, content: string) =>
  write(dir, {
    "in.txt": content,
    "weft.json": spec([
      { id: "slow", run: "c=$(cat in.txt); echo \"$c\"; echo $$ > pid.txt; case $c in *slow*) sleep 30;; esac", cache: { inputs: ["in.txt"] } },
      { id: "after", run: "echo after", needs: ["slow"] },
      { id: "other", run: "echo other" }
    ])
  })

describe("what is not watched", () => {
  it("files steps write (declared outputs, .weft), node_modules, .git and --ignore globs rerun nothing, even under an input glob that matches everything", async () => {
    const dir = folder()
    for (const sub of ["out", "node_modules/pkg", ".git", "tmp", "src"]) mkdirSync(path.join(dir, sub), { recursive: true })
    write(dir, {
      "src/a.txt": "a",
      "weft.json": spec([{ id: "build", run: "cat src/a.txt > out/built.txt; date +%N > out/stamp.txt", cache: { inputs: ["**/*"], outputs: ["out/**"] } }])
    })
    const w = await watch(dir, "weft.json", { ignore: ["tmp/**"] })
    await w.idle(1)
    expect(await w.quietFor(300)).toBe(0)
    write(dir, { "node_modules/pkg/index.js": "x", ".git/HEAD": "x", "tmp/scratch": "x", "out/manual.txt": "x" })
    expect(await w.quietFor(300)).toBe(0)
    expect(w.count("watch:change")).toBe(0)
    // The glob still sees the files it should.
    write(dir, { "src/a.txt": "b" })
    await w.idle(2)
    expect(w.count("step:start", "build")).toBe(2)
  })
})

describe("a change while a step runs", () => {
  it("interrupts that step (its process group is gone), restarts it with the new content, and caches nothing of the interrupted run", async () => {
    const dir = folder()
    sleeper(dir, "slow")
    const w = await watch(dir, "weft.json")
    const first = await nextPid(w)
    await w.until((events) => endsOf(events, "other").length === 1, "other to end")
    expect(groupAlive(first)).toBe(true)
    write(dir, { "in.txt": "fast" })
    await w.idle(1)
    const second = await nextPid(w, first)
    expect(groupAlive(first)).toBe(false)
    expect(endsOf(w.events, "slow")).toEqual(["cancelled", "succeeded"])
    expect(w.events.find((e) => e.type === "watch:change")).toMatchObject({ steps: ["slow", "after"], interrupted: ["slow"] })
    // `other` ended well before the change and nothing it reads changed: kept.
    expect(w.count("step:start", "other")).toBe(1)
    expect(logsOf(w.events, "slow")).toEqual(["slow", "fast"])

    // Back to the interrupted run's content: had it been cached, this would be a hit.
    write(dir, { "in.txt": "slow" })
    await w.until(() => endsOf(w.events, "slow").length === 3 || w.count("step:start", "slow") === 3, "slow to run again, or to hit the cache")
    expect(endsOf(w.events, "slow")).toEqual(["cancelled", "succeeded"])
    expect(w.count("step:start", "slow")).toBe(3)
    const third = await nextPid(w, second)
    expect(groupAlive(third)).toBe(true)
    await w.session.close()
    expect(groupAlive(third)).toBe(false)
  })

  it("does not interrupt anything when the affected steps have not started yet", async () => {
    const dir = folder()
    write(dir, {
      "in.txt": "slow",
      "late.txt": "1",
      "weft.json": spec([
        { id: "slow", run: "echo $$ > pid.txt; while [ ! -f go ]; do sleep 0.02; done", cache: { inputs: ["in.txt"] } },
        { id: "late", run: "cat late.txt", needs: ["slow"], cache: { inputs: ["late.txt"] } }
      ])
    })
    const w = await watch(dir, "weft.json")
    await nextPid(w)
    write(dir, { "late.txt": "2" })
    await w.until((events) => events.some((e) => e.type === "watch:change"), "the change")
    write(dir, { go: "" })
    await w.idle(1)
    expect(await w.quietFor(200)).toBe(0)
    expect(w.count("run:start")).toBe(1)
    expect(endsOf(w.events, "slow")).toEqual(["succeeded"])
    expect(logsOf(w.events, "late")).toEqual(["2"])
  })
})

describe("a step that writes its own inputs", () => {
  it("is reported once and not looped on", async () => {
    const dir = folder()
    write(dir, {
      "gen.txt": "",
      "weft.json": spec([{ id: "gen", run: "wc -l < gen.txt; echo line >> gen.txt", cache: { inputs: ["gen.txt"] } }])
    })
    const w = await watch(dir, "weft.json")
    await w.until((events) => events.some((e) => e.type === "watch:warning"), "the warning")
    expect(await w.quietFor(400)).toBe(0)
    // The first change made while it ran may have been the user's: one rerun, then no more.
    expect(w.count("step:start", "gen")).toBe(2)
    const warnings = w.events.filter((e) => e.type === "watch:warning")
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ message: expect.stringContaining(`step "gen" (gen.txt) changed while it ran, in consecutive runs`) })
    // An edit while it is idle still reruns it, once.
    write(dir, { "gen.txt": "reset\n" })
    await w.until(() => w.count("step:start", "gen") === 3, "the rerun")
    expect(await w.quietFor(400)).toBe(0)
    expect(w.count("step:start", "gen")).toBe(3)
    expect(w.events.filter((e) => e.type === "watch:warning")).toHaveLength(1)
  })

  it("a user saving twice while a long step runs loses neither edit: the second waits for the rerun to end, then reruns it", async () => {
    const dir = folder()
    write(dir, {
      "in.txt": "slow 1",
      "weft.json": spec([{ id: "slow", run: "c=$(cat in.txt); echo \"$c\"; echo $$ > pid.txt; case $c in *slow*) sleep 0.5;; esac", cache: { inputs: ["in.txt"] } }])
    })
    const w = await watch(dir, "weft.json")
    const first = await nextPid(w)
    write(dir, { "in.txt": "slow 2" })
    await nextPid(w, first)
    write(dir, { "in.txt": "fast" })
    await w.until((events) => logsOf(events, "slow").includes("fast"), "the last edit's run")
    await w.idle(1)
    expect(await w.quietFor(200)).toBe(0)
    expect(logsOf(w.events, "slow")).toEqual(["slow 1", "slow 2", "fast"])
    expect(endsOf(w.events, "slow")).toEqual(["cancelled", "succeeded", "succeeded"])
    expect(w.events.filter((e) => e.type === "watch:warning")).toEqual([])
  })
})

describe("keys", () => {
  it("r reruns everything: nothing is kept, though the cache still answers", async () => {
    const dir = folder()
    abc(dir)
    const w = await watch(dir, "weft.json")
    await w.idle(1)
    w.session.controls.rerunAll()
    await w.idle(2)
    expect(w.count("run:start")).toBe(2)
    // a and b: cache hits, which replay their logs (a kept result would not); c is not cached: it runs.
    expect(endsOf(w.events, "b")).toEqual(["succeeded", "cached"])
    expect(w.events.filter((e) => e.type === "step:log" && e.step === "b").map((e) => (e as { replayed?: true }).replayed)).toEqual([undefined, true])
    expect(w.count("step:start", "c")).toBe(2)
  })

  it("f reruns what failed and what it blocked, keeping what succeeded; c asks the reporter to clear", async () => {
    const dir = folder()
    write(dir, {
      "weft.json": spec([
        { id: "ok", run: "echo ok" },
        { id: "check", run: "test -f ready" },
        { id: "after", run: "echo after", needs: ["check"] }
      ])
    })
    let cleared = 0
    const w = await watch(dir, "weft.json", { failFast: false, onClear: () => cleared++ })
    await w.idle(1)
    expect(endsOf(w.events, "check")).toEqual(["failed"])
    expect(endsOf(w.events, "after")).toEqual(["skipped"])
    write(dir, { ready: "" })
    w.session.controls.rerunFailed()
    await w.idle(2)
    expect(endsOf(w.events, "check")).toEqual(["failed", "succeeded"])
    expect(endsOf(w.events, "after")).toEqual(["skipped", "succeeded"])
    expect(endsOf(w.events, "ok")).toEqual(["succeeded", "cached"])
    expect(w.count("step:start", "ok")).toBe(1)
    w.session.controls.clear()
    expect(cleared).toBe(1)
  })
})

describe("quitting", () => {
  it("q interrupts the run and leaves no process behind", async () => {
    const dir = folder()
    sleeper(dir, "slow")
    const w = await watch(dir, "weft.json")
    const pid = await nextPid(w)
    expect(groupMembers(pid).length).toBeGreaterThan(0)
    w.session.controls.quit()
    await w.session.closed
    expect(groupMembers(pid)).toEqual([])
    expect(endsOf(w.events, "slow")).toEqual(["cancelled"])
    // Closed means closed: an edit now starts nothing.
    write(dir, { "in.txt": "fast" })
    expect(await w.quietFor(200)).toBe(0)
  })
})

describe("editing the workflow", () => {
  it("a syntax error, then a definition error, is a watch:error each time with the message weft run prints; watching goes on, and fixing it reruns", async () => {
    const dir = folder()
    const steps = [
      { id: "a", run: "cat a.txt", cache: { inputs: ["a.txt"] } },
      { id: "b", run: "echo b", needs: ["a"] }
    ]
    write(dir, { "a.txt": "a1", "weft.json": spec(steps) })
    const w = await watch(dir, "weft.json")
    await w.idle(1)
    const errors = () => w.events.filter((e) => e.type === "watch:error")

    write(dir, { "weft.json": spec(steps).slice(0, -3) })
    await w.until(() => errors().length === 1, "the syntax error")
    expect(errors()[0]).toMatchObject({ file: "weft.json", message: expect.stringMatching(/^weft\.json: is not valid JSON: /) })

    write(dir, { "weft.json": spec([steps[0]!, { id: "b", run: "echo b", needs: ["aa"] }]) })
    await w.until(() => errors().length === 2, "the definition error")
    expect(errors()[1]).toMatchObject({
      message: `weft.json, workflow "watched" has a problem:\n  - step "b": needs "aa", which is not a step of this workflow. Did you mean "a"?`
    })

    // Still watching, with the last good workflow: an input edit reruns a (and b).
    write(dir, { "a.txt": "a2" })
    await w.idle(2)
    expect(logsOf(w.events, "a")).toEqual(["a1", "a2"])
    expect(w.count("watch:reload")).toBe(0)

    write(dir, { "weft.json": spec([steps[0]!, { id: "b", run: "echo fixed", needs: ["a"] }]) })
    await w.idle(3)
    expect(w.events.filter((e) => e.type === "watch:reload")).toMatchObject([{ added: [], removed: [], changed: ["b"] }])
    expect(logsOf(w.events, "b")).toEqual(["b", "b", "fixed"])
    // a's command is unchanged: kept, not rerun.
    expect(w.count("step:start", "a")).toBe(2)
  })

  it("putting back the last good content (an undo) clears the error, without a rerun", async () => {
    const dir = folder()
    const good = spec([{ id: "a", run: "echo a" }])
    write(dir, { "weft.json": good })
    const w = await watch(dir, "weft.json")
    await w.idle(1)
    write(dir, { "weft.json": good.slice(0, -3) })
    await w.until(() => w.count("watch:error") === 1, "the syntax error")
    write(dir, { "weft.json": good })
    await w.until(() => w.count("watch:reload") === 1, "the error to be cleared")
    const last = w.events.findLast((e) => e.type === "watch:reload" || e.type === "watch:error")
    expect(last).toMatchObject({ type: "watch:reload", added: [], removed: [], changed: [] })
    expect(await w.quietFor(150)).toBe(0)
  })

  it("reruns what was added or changed and its dependents, and keeps the steps the edit did not touch, function steps included", async () => {
    const dir = folder()
    const module = (greeting: string, fnBody = "return 1", extra = "") =>
      [
        `import { appendFileSync } from "node:fs"`,
        `import { sh, workflow } from ${JSON.stringify(dslIndex)}`,
        `import { suffix } from "./helper.ts"`,
        `const count = (id: string) => appendFileSync(${JSON.stringify(path.join(dir, "counts.txt"))}, id + "\\n")`,
        `const tail = suffix`,
        `export default workflow("edited")`,
        `  .step("cmd", sh\`echo ${greeting}\`)`,
        `  .step("same", sh\`echo same\`)`,
        `  .step("fn", () => { count("fn"); ${fnBody} })`,
        `  .step("other", () => { count("other"); return 2 })`,
        `  .step("down", { needs: ["cmd"] }, ({ cmd }) => { count("down"); return cmd.stdout + tail })`,
        `  .step("after", { needs: ["fn"] }, ({ fn }) => { count("after"); return fn + 1 })`,
        extra
      ].join("\n")
    const counts = () => read(dir, "counts.txt").split("\n").filter(Boolean).sort()
    write(dir, { "helper.ts": `export const suffix = "!"\n`, "weft.ts": module("hello") })
    const w = await watch(dir, "weft.ts")
    await w.idle(1)
    expect(counts()).toEqual(["after", "down", "fn", "other"])

    // A command edited and a step added: the function steps are kept, but for the command's dependent.
    write(dir, { "weft.ts": module("bonjour", "return 1", `  .step("new", sh\`echo new\`)`) })
    await w.idle(2)
    expect(w.events.filter((e) => e.type === "watch:reload")).toMatchObject([{ file: "weft.ts", added: ["new"], removed: [], changed: ["cmd"] }])
    expect(w.events.filter((e) => e.type === "watch:change").at(-1)).toMatchObject({ steps: ["cmd", "down", "new"] })
    expect(w.count("step:start", "same")).toBe(1)
    expect(endsOf(w.events, "same")).toEqual(["succeeded", "cached"])
    expect(endsOf(w.events, "other")).toEqual(["succeeded", "cached"])
    expect(counts()).toEqual(["after", "down", "down", "fn", "other"])
    expect(logsOf(w.events, "new")).toEqual(["new"])

    // One function step's body edited: it and its dependent rerun, nothing else.
    write(dir, { "weft.ts": module("bonjour", "return 10", `  .step("new", sh\`echo new\`)`) })
    await w.idle(3)
    expect(w.events.filter((e) => e.type === "watch:reload").at(-1)).toMatchObject({ added: [], removed: [], changed: ["fn"] })
    expect(w.events.filter((e) => e.type === "watch:change").at(-1)).toMatchObject({ steps: ["fn", "after"] })
    expect(counts()).toEqual(["after", "after", "down", "down", "fn", "fn", "other"])
    expect(w.count("step:start", "cmd")).toBe(2)
    expect(w.count("step:start", "new")).toBe(1)

    // A step removed: gone from the next run, nothing else reruns.
    write(dir, { "weft.ts": module("bonjour", "return 10") })
    await w.idle(4)
    expect(w.events.filter((e) => e.type === "watch:reload").at(-1)).toMatchObject({ added: [], removed: ["new"], changed: [] })
    expect(w.count("step:start", "cmd")).toBe(2)
    expect(counts()).toEqual(["after", "after", "down", "down", "fn", "fn", "other"])
  })
})

describe("the inotify limit", () => {
  it("ENOSPC: says so with the sysctl that fixes it, falls back to polling, and still reacts", async () => {
    const dir = folder()
    abc(dir)
    const made: Array<ChokidarOptions> = []
    const factory: WatchFactory = (paths, options) => {
      made.push(options)
      if (made.length > 1) return chokidarWatch(paths, options)
      // A native watcher that hits the limit: ready, then ENOSPC, and never an event.
      const broken = new EventEmitter() as EventEmitter & FileWatcher
      broken.close = async () => {}
      setTimeout(() => {
        broken.emit("ready")
        broken.emit("error", Object.assign(new Error("ENOSPC: System limit for number of file watchers reached, watch 'a.txt'"), { code: "ENOSPC" }))
      }, 5)
      return broken
    }
    const w = await watch(dir, "weft.json", { watcherFactory: factory })
    await w.until((events) => events.some((e) => e.type === "watch:ready" && e.polling), "polling")
    await w.idle(1)
    expect(made.map((options) => options.usePolling)).toEqual([false, true])
    const warning = w.events.find((e) => e.type === "watch:warning")
    expect(warning).toMatchObject({ message: expect.stringContaining("sudo sysctl fs.inotify.max_user_watches=524288") })
    expect(warning).toMatchObject({ message: expect.stringContaining("polling") })
    write(dir, { "a.txt": "a2" })
    await w.idle(2)
    expect(logsOf(w.events, "a")).toEqual(["a1", "a2"])
  })
})
