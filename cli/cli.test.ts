/**
 * The `weft` command end to end: a real `node bin/weft.js` process per case,
 * checked by exit code and by what a user (or a tool reading `--reporter
 * json`) sees.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, it } from "vitest"
import type { Event, EventOf } from "../runtime/Event.ts"
import { eventsOf, fixtures, removeTempDirs, repoRoot, stackFrames, startWeft, tempDir, weft, type WeftResult } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const fixture = (name: string) => path.relative(repoRoot, path.join(fixtures, name))
const dslIndex = path.join(repoRoot, "dsl/index.ts")

const ends = (events: ReadonlyArray<Event>) => events.filter((e): e is EventOf<"step:end"> => e.type === "step:end")
const stepIdsIn = (events: ReadonlyArray<Event>) =>
  new Set(events.flatMap((e) => (e.type === "run:start" ? e.steps.map((s) => s.id) : "step" in e ? [e.step] : [])))

/** A readable failure: the command's whole output. */
const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

describe.concurrent("weft run", () => {
  it("runs examples/view-switch.ts: exit 0, every step succeeded, a critical path", async ({ expect }) => {
    const r = await weft(["run", "examples/view-switch.ts"])
    expect(r.code, shown(r)).toBe(0)
    for (const id of ["route", "profile", "permissions", "notifications", "render"]) {
      expect(r.stdout).toMatch(new RegExp(`^✓ ${id} succeeded in `, "m"))
      expect(r.stdout).toMatch(new RegExp(`^  ${id} +succeeded +\\d`, "m"))
    }
    expect(r.stdout).toMatch(/^✓ view-switch succeeded in /m)
    // profile (117 ms) dwarfs the other calls, so it decides the run's length.
    expect(r.stdout).toMatch(/^  critical path: route → profile → render \(\d+ ms\)$/m)
    expect(r.stderr).toBe("")
  })

  it("--reporter json: one event per line, run:start first, run:end last, every step ends once", async ({ expect }) => {
    const r = await weft(["run", "examples/view-switch.ts", "--reporter", "json"])
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout.endsWith("\n")).toBe(true)
    const events = eventsOf(r.stdout)
    expect(events[0]!.type).toBe("run:start")
    expect(events.at(-1)).toMatchObject({ type: "run:end", status: "succeeded" })
    expect(events.filter((e) => e.type === "run:start" || e.type === "run:end")).toHaveLength(2)
    const ids = (events[0] as EventOf<"run:start">).steps.map((s) => s.id)
    expect(ids).toEqual(["route", "profile", "permissions", "notifications", "render"])
    const ended = ends(events)
    expect(ended.map((e) => e.step).sort()).toEqual([...ids].sort())
    for (const e of ended) expect(e.status).toBe("succeeded")
  })

  it("exits 1 for a failing workflow and shows the failing step's error", async ({ expect }) => {
    const r = await weft(["run", fixture("failing.ts")])
    expect(r.code, shown(r)).toBe(1)
    expect(r.stdout).toMatch(/^✗ bad failed in .*: the disk is full \(fixture failure\)$/m)
    expect(r.stdout).toMatch(/^  bad +failed /m)
    // Fail-fast: the independent 300 ms step is cancelled, the dependent one skipped.
    expect(r.stdout).toMatch(/^  slow +cancelled /m)
    expect(r.stdout).toMatch(/^  after-bad +skipped /m)
    expect(r.stdout).toMatch(/^✗ failing failed in /m)
  })

  it("--continue lets an independent branch finish, and still exits 1", async ({ expect }) => {
    const r = await weft(["run", fixture("failing.ts"), "--continue", "--reporter", "json"])
    expect(r.code, shown(r)).toBe(1)
    const byStep = new Map(ends(eventsOf(r.stdout)).map((e) => [e.step, e]))
    expect(byStep.get("bad")).toMatchObject({ status: "failed", error: "the disk is full (fixture failure)" })
    expect(byStep.get("slow")).toMatchObject({ status: "succeeded" })
    expect(byStep.get("after-bad")).toMatchObject({ status: "skipped" })
    expect(eventsOf(r.stdout).at(-1)).toMatchObject({ type: "run:end", status: "failed" })
  })

  it("naming steps runs them and their dependencies only", async ({ expect }) => {
    const one = await weft(["run", "examples/view-switch.ts", "permissions", "--reporter", "json"])
    expect(one.code, shown(one)).toBe(0)
    expect(stepIdsIn(eventsOf(one.stdout))).toEqual(new Set(["route", "permissions"]))
    expect(ends(eventsOf(one.stdout)).map((e) => e.step).sort()).toEqual(["permissions", "route"])

    const two = await weft(["run", "examples/view-switch.ts", "permissions", "notifications", "--reporter", "json"])
    expect(two.code, shown(two)).toBe(0)
    expect(stepIdsIn(eventsOf(two.stdout))).toEqual(new Set(["route", "permissions", "notifications"]))
  })

  it("--dry-run prints levels and the critical path and runs nothing", async ({ expect }) => {
    const dir = tempDir()
    // A history of its own: dry runs follow history, and the fixtures folder keeps every test's.
    const env = { WEFT_FIXTURE_DIR: dir, WEFT_DIR: path.join(dir, ".weft") }
    const r = await weft(["run", fixture("dry-run.ts"), "--dry-run", "--concurrency", "2"], { env })
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toContain("dry run: nothing runs")
    expect(r.stdout).toMatch(/^  level 0: fetch, lint\b/m)
    expect(r.stdout).toMatch(/^  level 1: touch, compile\b/m)
    expect(r.stdout).toMatch(/^  level 2: ship$/m)
    expect(r.stdout).toMatch(/^  critical path: fetch → touch → ship /m)
    expect(existsSync(path.join(dir, "touched"))).toBe(false)
    // The same workflow run for real does create the file: the check above means something.
    const real = await weft(["run", fixture("dry-run.ts")], { env })
    expect(real.code, shown(real)).toBe(0)
    expect(existsSync(path.join(dir, "touched"))).toBe(true)
  })

  it("runs a YAML spec with shell-string and argv steps, each output line prefixed by its step", async ({ expect }) => {
    const r = await weft(["run", fixture("commands.yaml")])
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toMatch(/^greet +│ hello from sh$/m)
    expect(r.stdout).toMatch(/^greet +│ second line$/m)
    // argv goes to the program as is: no shell expands `$HOME`.
    expect(r.stdout).toMatch(/^argv +│ argv says \$HOME$/m)
  })

  it("loads a workflow file that uses an enum (tsx fallback), inside and outside an ESM package", async ({ expect }) => {
    const inRepo = await weft(["run", fixture("enum.ts")])
    expect(inRepo.code, shown(inRepo)).toBe(0)
    expect(inRepo.stdout).toMatch(/^paint +│ painting it green$/m)

    // A project whose package.json has no "type": tsx loads the file as CommonJS.
    const dir = tempDir()
    writeFileSync(path.join(dir, "package.json"), "{}\n")
    writeFileSync(path.join(dir, "weft.ts"), [
      `import { workflow } from ${JSON.stringify(dslIndex)}`,
      `enum Size { Small = "small", Large = "large" }`,
      `export default workflow("cjs-enum").step("measure", (_, ctx) => { ctx.log("size " + Size.Large) })`,
      ""
    ].join("\n"))
    const outside = await weft(["run"], { cwd: dir })
    expect(outside.code, shown(outside)).toBe(0)
    expect(outside.stdout).toMatch(/^measure +│ size large$/m)
  })

  it("keeps running quietly when its stdout reader goes away (weft run | head -1)", async ({ expect }) => {
    const running = startWeft(["run", "examples/view-switch.ts"])
    running.child.stdout.once("data", () => running.child.stdout.destroy())
    const r = await running.exited
    expect(r.code, shown(r)).toBe(0)
    expect(stackFrames(r.stderr)).toEqual([])
    expect(r.stderr).not.toMatch(/EPIPE/)
  })
})

describe.concurrent("weft graph", () => {
  const expected = ["compile→ship", "fetch→compile", "fetch→touch", "lint→ship", "touch→ship"]

  it("--format mermaid", async ({ expect }) => {
    const r = await weft(["graph", fixture("dry-run.ts"), "--format", "mermaid"])
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toMatch(/^flowchart /)
    const names = new Map([...r.stdout.matchAll(/^\s*(\w+)\["([^"]+)"\]$/gm)].map((m) => [m[1]!, m[2]!]))
    const edges = [...r.stdout.matchAll(/^\s*(\w+) -->(?:\|"?[^|]*"?\|)? (\w+)$/gm)].map((m) => `${names.get(m[1]!)}→${names.get(m[2]!)}`)
    expect(edges.sort()).toEqual(expected)
  })

  it("--format dot", async ({ expect }) => {
    const r = await weft(["graph", fixture("dry-run.ts"), "--format", "dot"])
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toMatch(/^digraph "shape" \{/)
    const names = new Map([...r.stdout.matchAll(/^\s*"([^"]+)" \[label="([^"]+)"\];$/gm)].map((m) => [m[1]!, m[2]!]))
    const edges = [...r.stdout.matchAll(/^\s*"([^"]+)" -> "([^"]+)"/gm)].map((m) => `${names.get(m[1]!)}→${names.get(m[2]!)}`)
    expect(edges.sort()).toEqual(expected)
  })

  it("--format json", async ({ expect }) => {
    const r = await weft(["graph", fixture("dry-run.ts"), "--format", "json"])
    expect(r.code, shown(r)).toBe(0)
    const graph = JSON.parse(r.stdout) as { workflow: string; steps: Array<{ id: string; needs: Array<string>; after: Array<string> }> }
    expect(graph.workflow).toBe("shape")
    const edges = graph.steps.flatMap((s) => [...new Set([...s.needs, ...s.after])].map((from) => `${from}→${s.id}`))
    expect(edges.sort()).toEqual(expected)
  })

  it("--format text (the default)", async ({ expect }) => {
    const r = await weft(["graph", fixture("dry-run.ts")])
    expect(r.code, shown(r)).toBe(0)
    const edges = r.stdout.split("\n").flatMap((line) => {
      const m = /^(\S+) ← ([^(]+?)\s+\(/.exec(line)
      return m === null ? [] : m[2]!.split(", ").map((from) => `${from}→${m[1]}`)
    })
    expect(edges.sort()).toEqual(expected)
  })
})

describe.concurrent("weft --help, --version", () => {
  it("--help exits 0 with the usage", async ({ expect }) => {
    const r = await weft(["--help"])
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toMatch(/^Usage:$/m)
    expect(r.stdout).toContain("weft run [file]")
  })

  it("--version exits 0 with package.json's version", async ({ expect }) => {
    const r = await weft(["--version"])
    expect(r.code, shown(r)).toBe(0)
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }
    expect(r.stdout).toBe(`weft ${version}\n`)
  })
})

/** A file written for one case; it cannot live among the fixtures, which the type checker reads. */
const brokenFile = (name: string, text: string): string => {
  const file = path.join(tempDir(), name)
  writeFileSync(file, text)
  return file
}

interface BadCase {
  readonly name: string
  readonly args: () => ReadonlyArray<string>
  readonly cwd?: string
  /** Every one must match stderr. */
  readonly says: ReadonlyArray<RegExp>
}

const badCases: ReadonlyArray<BadCase> = [
  {
    name: "a missing file",
    args: () => ["run", fixture("does-not-exist.ts")],
    says: [/test\/fixtures\/cli\/does-not-exist\.ts: no such file/]
  },
  {
    name: "no weft.ts in the folder (the default file)",
    args: () => ["run"],
    cwd: fixtures,
    says: [/weft\.ts: no such file/, /weft run path\/to\/workflow\.ts/]
  },
  {
    name: "a syntax error",
    args: () => ["run", brokenFile("syntax.ts", `import { workflow } from ${JSON.stringify(dslIndex)}\n\nexport default workflow("broken")\n  .step("a", () => {\n    const x = ;\n  })\n`)],
    says: [/syntax\.ts: has a syntax error at line 5\b/]
  },
  {
    name: "no default export",
    args: () => ["run", fixture("no-default.ts")],
    says: [/no-default\.ts: has no default export/, /it exports build/]
  },
  {
    name: "a default export that is not a workflow",
    args: () => ["run", fixture("not-a-workflow.ts")],
    says: [/not-a-workflow\.ts: its default export is an object, not a workflow/]
  },
  {
    name: "an unknown step named on the command line",
    args: () => ["run", "examples/view-switch.ts", "rendr"],
    says: [/examples\/view-switch\.ts/, /step "rendr"/, /Did you mean "render"\?/]
  },
  {
    name: "a duplicate step id",
    args: () => ["run", fixture("duplicate-id.ts")],
    says: [/duplicate-id\.ts/, /step "build"/, /used twice/]
  },
  {
    name: "needs naming an unknown step",
    args: () => ["run", fixture("unknown-need.ts")],
    says: [/unknown-need\.ts/, /step "test"/, /needs "biuld"/, /Did you mean "build"\?/]
  },
  {
    name: "--concurrency 0",
    args: () => ["run", "examples/view-switch.ts", "--concurrency", "0"],
    says: [/--concurrency must be a whole number of at least 1, not "0"/, /weft run --help/]
  },
  {
    name: "an unknown flag",
    args: () => ["run", "examples/view-switch.ts", "--frobnicate"],
    says: [/--frobnicate/, /weft run --help/]
  },
  {
    name: "a misspelt flag",
    args: () => ["run", "examples/view-switch.ts", "--concurency", "2"],
    says: [/unknown option --concurency for weft run\. Did you mean "--concurrency"\?/]
  },
  {
    name: "no command at all",
    args: () => [],
    says: [/Usage:/]
  },
  {
    name: "an unknown command",
    args: () => ["frobnicate", "examples/view-switch.ts"],
    says: [/unknown command "frobnicate"/, /Commands: run, watch, verify, graph/]
  },
  {
    name: "a .json spec with a cycle",
    args: () => ["run", fixture("cycle.json")],
    // Where the cycle is entered is not the point; its full path is.
    says: [/cycle\.json/, /a → b → c → a|b → c → a → b|c → a → b → c/]
  },
  {
    name: "a .yaml spec with an unknown key",
    args: () => ["run", fixture("unknown-key.yaml")],
    says: [/unknown-key\.yaml/, /step "test"/, /unknown key "neds"/, /Did you mean "needs"\?/]
  },
  {
    name: "an invalid timeout",
    args: () => ["run", fixture("bad-timeout.ts")],
    says: [/bad-timeout\.ts/, /step "wait"/, /timeout "soonish" is not a duration/]
  }
]

describe.concurrent("exit 2, a clear message and no stack trace", () => {
  it.for(badCases)("$name", async ({ args, cwd, says }, { expect }) => {
    const r = await weft(args(), cwd === undefined ? {} : { cwd })
    expect(r.code, shown(r)).toBe(2)
    expect(r.stderr).toMatch(/^weft: /)
    for (const pattern of says) expect(r.stderr).toMatch(pattern)
    expect(stackFrames(r.stderr + r.stdout)).toEqual([])
    // Nothing ran: no run header, no events.
    expect(r.stdout).toBe("")
  })

  it("graph reports the same definition errors", async ({ expect }) => {
    const r = await weft(["graph", fixture("cycle.json")])
    expect(r.code, shown(r)).toBe(2)
    expect(r.stderr).toMatch(/a → b → c → a|b → c → a → b|c → a → b → c/)
    expect(stackFrames(r.stderr)).toEqual([])
  })
})
