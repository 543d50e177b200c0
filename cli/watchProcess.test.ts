/**
 * `weft watch` as a real process: in a pseudo-terminal (util-linux `script`),
 * where keys arrive raw and Ctrl-C is a byte; and over pipes with a
 * TypeScript workflow, where Node's own loader must re-import an edited
 * helper module. Each ends leaving no process behind.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { inTerminal as terminal, killLaunched, launch } from "../test/fixtures/terminal.ts"
import { groupMembers, repoRoot } from "../test/fixtures/cli/harness.ts"
import { dslIndex, folder, removeFolders, spec, write } from "../test/fixtures/watch/harness.ts"

afterAll(removeFolders)

const weftBin = path.join(repoRoot, "bin/weft.js")

afterEach(killLaunched)

/** Runs `weft watch …` in a pseudo-terminal. */
const inTerminal = (args: ReadonlyArray<string>, cwd: string) => terminal(["watch", ...args], cwd)


const pidIn = (dir: string): number => (existsSync(path.join(dir, "pid.txt")) ? Number(readFileSync(path.join(dir, "pid.txt"), "utf8")) : 0)

/** The pid `s` wrote (other than `previous`) once its process group is up. */
const sleeping = async (dir: string, previous = 0): Promise<number> => {
  const deadline = performance.now() + 10_000
  for (;;) {
    const pid = pidIn(dir)
    if (pid > 0 && pid !== previous && groupMembers(pid).length > 0) return pid
    if (performance.now() > deadline) throw new Error("timed out waiting for s to sleep")
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe("weft watch in a terminal", () => {
  const setUp = () => {
    const dir = folder()
    write(dir, {
      "a.txt": "a1",
      "s.txt": "rest",
      "weft.json": spec([
        { id: "a", run: "cat a.txt", cache: { inputs: ["a.txt"] } },
        { id: "b", run: "echo b" },
        { id: "s", run: "c=$(cat s.txt); echo $$ > pid.txt; case $c in sleep) sleep 30;; esac", cache: { inputs: ["s.txt"] } }
      ])
    })
    return dir
  }

  it("an edit reruns exactly the affected step; q, typed raw, exits 0 and leaves no process behind", async () => {
    const dir = setUp()
    const weft = inTerminal(["weft.json", "--reporter", "plain", "--debounce", "20"], dir)
    await weft.until(/waiting for changes/, "the first run")
    const firstRun = weft.output().length
    writeFileSync(path.join(dir, "a.txt"), "a2")
    await weft.until(/changed a\.txt: rerunning a\n[\s\S]*waiting for changes/, "the rerun")
    const rerun = weft.output().slice(firstRun)
    expect(rerun).toMatch(/^✓ a succeeded/m)
    expect(rerun).toMatch(/^✓ b cached/m)
    expect(rerun).toMatch(/^✓ s cached/m)
    expect(rerun).not.toMatch(/^b +│ b$/m)

    const before = pidIn(dir)
    writeFileSync(path.join(dir, "s.txt"), "sleep")
    // The watcher may fold a late event for a.txt into the same batch ("changed a.txt, s.txt: rerunning a, s").
    await weft.until(/changed (?:[^\n]*, )?s\.txt(?:, [^\n]*)?: rerunning (?:[^\n]*, )?s\b/, "s to rerun")
    const pid = await sleeping(dir, before)
    weft.child.stdin.write("q")
    expect(await weft.exited).toBe(0)
    expect(groupMembers(pid)).toEqual([])
  })

  it("Ctrl-C typed on the terminal exits 130, with the running step cancelled and gone", async () => {
    const dir = setUp()
    write(dir, { "s.txt": "sleep" })
    const weft = inTerminal(["weft.json", "--reporter", "plain"], dir)
    const pid = await sleeping(dir)
    weft.child.stdin.write("\x03")
    expect(await weft.exited).toBe(130)
    expect(weft.output()).toMatch(/Ctrl-C: stopping/)
    expect(weft.output()).toMatch(/○ s cancelled/)
    expect(groupMembers(pid)).toEqual([])
  })
})

describe("weft watch in a terminal: a step that ignores SIGTERM", () => {
  it("a second Ctrl-C does not wait out the grace period: weft exits at once and the step's group is killed", async () => {
    const dir = folder()
    write(dir, { "weft.json": spec([{ id: "s", run: "trap '' TERM; echo $$ > pid.txt; while :; do sleep 0.05; done" }]) })
    const weft = inTerminal(["weft.json", "--reporter", "plain"], dir)
    const pid = await sleeping(dir)
    weft.child.stdin.write("\x03")
    await weft.until(/Ctrl-C: stopping/, "the first Ctrl-C")
    // The step ignores SIGTERM: without a second Ctrl-C weft would wait out the grace period, then SIGKILL.
    weft.child.stdin.write("\x03")
    expect(await weft.exited).toBe(130)
    expect(weft.output()).toMatch(/forced exit/)
    expect(groupMembers(pid)).toEqual([])
  })
})

describe("weft watch on a TypeScript workflow, over pipes", () => {
  it("an edit to an imported helper reloads it afresh; a syntax error is a watch:error and fixing it recovers; q on stdin exits 0", async () => {
    const dir = folder()
    const workflowText = (body: string) =>
      [
        `import { workflow } from ${JSON.stringify(dslIndex)}`,
        `import { greeting } from "./helper.ts"`,
        `export default workflow("ts").step("greet", (_, ctx) => ctx.log(${body}))`,
        ""
      ].join("\n")
    write(dir, { "helper.ts": `export const greeting = "hello"\n`, "weft.ts": workflowText("greeting") })
    const weft = launch("node", [weftBin, "watch", "weft.ts", "--reporter", "json", "--debounce", "20"], dir)
    const events = () => weft.output().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { type: string; [key: string]: unknown })
    const runs = () => events().filter((e) => e.type === "run:end").length
    await weft.until(/"watch:idle"/, "the first run")

    write(dir, { "helper.ts": `export const greeting = "bonjour"\n` })
    await weft.until(/"watch:reload"[\s\S]*"watch:idle"/, "the reload")
    expect(events().find((e) => e.type === "watch:reload")).toMatchObject({ changed: ["greet"] })
    expect(runs()).toBe(2)

    write(dir, { "weft.ts": workflowText("greeting +") })
    await weft.until(/"watch:error"/, "the syntax error")
    const error = events().find((e) => e.type === "watch:error")!
    expect(error.message).toMatch(/^weft\.ts: has a syntax error/)
    expect(String(error.message)).not.toMatch(/\n\s+at /)

    write(dir, { "weft.ts": workflowText(`greeting + "!"`) })
    await weft.until(/"watch:error"[\s\S]*"watch:reload"[\s\S]*"watch:idle"/, "the fix")
    weft.child.stdin.write("q\n")
    expect(await weft.exited).toBe(0)
    // Each run saw the helper and the workflow as they were on disk.
    expect(events().filter((e) => e.type === "step:log").map((e) => e.text)).toEqual(["hello", "bonjour", "bonjour!"])
  })
})
