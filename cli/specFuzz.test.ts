/**
 * Fuzzed specs, well-formed and not: weft either takes a spec or says what is
 * wrong with it in its own words (exit 2), never crashes on it (exit 1, a
 * stack trace). In process first (many cases, fast), then a few through the
 * real `weft run`.
 */
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import * as fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isDefinitionError } from "../dsl/DefinitionError.ts"
import { fromSpec, type Spec } from "../dsl/Spec.ts"
import { eventsOf, removeTempDirs, stackFrames, tempDir, weft } from "../test/fixtures/cli/harness.ts"
import { spec, specText } from "../test/fixtures/specs.ts"
import * as Plan from "../runtime/Plan.ts"
import { parseSpec, prepareYaml } from "../runtime/parseSpec.ts"

afterAll(removeTempDirs)
beforeAll(prepareYaml)

/** What weft makes of a spec in process: a plan, or a `DefinitionError`; anything else thrown fails the property. */
const planOf = (data: unknown): "ok" | "definition error" => {
  try {
    Plan.make(fromSpec(data as Spec, { file: "fuzz.yaml" }))
    return "ok"
  } catch (error) {
    if (!isDefinitionError(error)) throw error
    // The message is built for the user on demand: it must not throw either, and names the file.
    expect(error.message).toContain("fuzz.yaml")
    for (const p of error.problems) expect(typeof p.message).toBe("string")
    return "definition error"
  }
}

describe("fuzzed specs in process", () => {
  it("fromSpec and the plan take a spec or throw a DefinitionError, nothing else", () => {
    const seen = new Set<string>()
    fc.assert(fc.property(spec, (data) => void seen.add(planOf(data))), { numRuns: Number(process.env.FUZZ_RUNS ?? 1500) })
    // The generator reaches both sides.
    expect([...seen].sort()).toEqual(["definition error", "ok"])
  })

  it("YAML text (tags weft does not read included) is data, a problem in weft's words, or a DefinitionError", () => {
    fc.assert(
      fc.property(specText, (text) => {
        const parsed = parseSpec(text, "yaml")
        if ("problem" in parsed) {
          expect(parsed.problem).not.toMatch(/YAMLWarning|\n\s+at /)
          return
        }
        planOf(parsed.data)
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 500) }
    )
  })

  it("refuses a value that contains itself (&a [*a]), which no message could show", () => {
    const parsed = parseSpec("name: x\nsteps:\n  - id: a\n    run: \"true\"\n    timeout: &a [*a]\n", "yaml")
    expect(parsed).toEqual({ problem: expect.stringContaining("has a YAML alias inside the value it names") })
    // A value used twice is fine.
    expect(parseSpec("name: x\nenv: &e [A]\nsteps:\n  - { id: a, run: \"true\", permissions: { env: *e } }\n", "yaml")).toHaveProperty("data")
  })

  it("refuses !!js/function in its own words, naming the tag and where it is", () => {
    const parsed = parseSpec("name: x\nsteps:\n  - id: a\n    run: !!js/function 'function () { return 1 }'\n", "yaml")
    expect(parsed).toEqual({ problem: expect.stringContaining("uses a YAML tag weft does not read (!!js/function at line 4, column 10)") })
  })
})

describe("fuzzed specs through weft run", () => {
  it("exits 0 or 2, never 1 and never with a stack trace", async () => {
    const dir = tempDir("weft-spec-fuzz-")
    let n = 0
    await fc.assert(
      fc.asyncProperty(specText, async (text) => {
        const file = path.join(dir, `spec-${n++}.yaml`)
        writeFileSync(file, text)
        const r = await weft(["run", file, "--reporter", "plain"], { cwd: dir })
        const context = `${text}\n--- exit ${r.code}\n${r.stderr}`
        expect(r.code === 0 || r.code === 2, context).toBe(true)
        expect(stackFrames(r.stderr), context).toEqual([])
        expect(r.stderr, context).not.toContain("YAMLWarning")
      }),
      // Each case starts a weft process: a few, and mostly malformed ones are as cheap as any.
      { numRuns: 6 }
    )
  }, 120_000)

  it.each([
    ["after: {}", "    after: {}\n", `step "b": after must be a list of step ids`],
    ["needs: [5]", "    needs: [5]\n", `step "b": needs lists 5, which is not a step id`],
    ["cwd: 5", "    cwd: 5\n", `step "b": cwd must be a folder`],
    ["env: 5", "    env: 5\n", `step "b": env must be a map of variable names to strings`],
    ["!!js/function", "    estimate: !!js/function 'function () {}'\n", "uses a YAML tag weft does not read (!!js/function"]
  ])("%s exits 2 with weft's own message naming the file", async (_case, line, expected) => {
    const dir = tempDir("weft-spec-")
    writeFileSync(path.join(dir, "wf.yaml"), `name: w\nsteps:\n  - id: a\n    run: "true"\n  - id: b\n    run: "true"\n${line}`)
    const r = await weft(["run", "wf.yaml", "--reporter", "plain"], { cwd: dir })
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain("wf.yaml")
    expect(r.stderr).toContain(expected)
    expect(stackFrames(r.stderr)).toEqual([])
    expect(r.stderr).not.toContain("YAMLWarning")
  })
})

describe("step ids named like Object.prototype's properties, through weft run", () => {
  it("runs each, reports each, and caches each", async () => {
    const dir = tempDir("weft-proto-")
    writeFileSync(path.join(dir, "wf.yaml"), [
      "name: proto",
      "steps:",
      "  - { id: __proto__, run: \"echo polluted\", cache: true }",
      "  - { id: constructor, run: \"echo built\", cache: true }",
      "  - { id: hasOwnProperty, run: \"echo own\", needs: [__proto__, constructor], cache: true }",
      "  - { id: toString, run: \"echo text\", after: [hasOwnProperty], cache: true }",
      "  - { id: valueOf, run: \"echo value\", needs: [toString, __proto__], cache: true }",
      ""
    ].join("\n"))
    const ids = ["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf"]
    const endsOf = (stdout: string) =>
      new Map(eventsOf(stdout).flatMap((e) => (e.type === "step:end" ? [[e.step, e.status] as const] : [])))
    const first = await weft(["run", "wf.yaml", "--reporter", "json"], { cwd: dir })
    expect(first.code, first.stderr).toBe(0)
    expect([...endsOf(first.stdout).entries()].sort()).toEqual(ids.map((id) => [id, "succeeded"]).sort())
    const second = await weft(["run", "wf.yaml", "--reporter", "json"], { cwd: dir })
    expect(second.code, second.stderr).toBe(0)
    expect([...endsOf(second.stdout).entries()].sort()).toEqual(ids.map((id) => [id, "cached"]).sort())
  })
})
