/**
 * Every command's own help, driven by the same table its parser reads: each
 * flag the parser accepts is listed with its meaning, and an example. A flag
 * added to a command's table without help fails here; one the help lists but
 * the parser rejects, too.
 */
import { describe, it } from "vitest"
import { commands, specsOf } from "./commands.ts"
import { helpFlag, parseFlags, type CommandSpec, type Flag } from "./flags.ts"
import { callMain } from "../test/fixtures/cli/harness.ts"
import { runFlags } from "./runFlags.ts"
import { runSpec, watchSpec } from "./specs.ts"

const call = (argv: ReadonlyArray<string>) => callMain(argv)

const every: ReadonlyArray<CommandSpec> = Object.values(commands).flatMap(specsOf)

/** A value each flag's check accepts, to show the parser takes the flag. */
const sample = (name: string, flag: Flag): Array<string> =>
  flag.type === "boolean" ? [`--${name}`] : [`--${name}`, name === "reporter" ? "plain" : name === "format" ? "json" : name === "max-size" ? "1MB" : name === "seed" ? "42" : flag.value === "N" || flag.value === "MS" ? "3" : flag.value === "URL" ? "https://cache.example.com" : "x"]

describe("weft <command> --help", () => {
  it("covers every command, and every subcommand of cache", ({ expect }) => {
    expect(every.map((s) => s.name)).toEqual(expect.arrayContaining(["run", "watch", "graph", "history", "report", "verify", "cache stats", "cache prune", "cache clear"]))
  })

  it.for(every.map((spec) => [spec.name, spec] as const))("%s: synopsis, every flag with its meaning, an example; exit 0", async ([name, spec], { expect }) => {
    const r = await call([...name.split(" "), "--help"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe("")
    expect(r.stdout).toMatch(new RegExp(`^weft ${name}: \\S`))
    expect(r.stdout).toMatch(/^Usage:$/m)
    for (const line of spec.usage) expect(r.stdout).toContain(`  ${line}`)
    const flags = { ...spec.flags, ...helpFlag } as Readonly<Record<string, Flag>>
    for (const [flag, def] of Object.entries(flags)) {
      expect(def.help.trim().length, `--${flag} has no help`).toBeGreaterThan(10)
      // The flag's line starts with it and carries the first words of its meaning.
      const words = def.help.split(" ").slice(0, 3).join(" ")
      expect(r.stdout).toMatch(new RegExp(`^  (-\\w, )?--${flag}\\b.*${words.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m"))
    }
    expect(r.stdout).toMatch(/^Examples?:$/m)
    expect(r.stdout).toMatch(new RegExp(`^  weft ${name}\\b`, "m"))
    // -h and `weft help <command>` say the same.
    expect((await call([...name.split(" "), "-h"])).stdout).toBe(r.stdout)
    expect((await call(["help", ...name.split(" ")])).stdout).toBe(r.stdout)
  })

  it.for(every.map((spec) => [spec.name, spec] as const))("%s: its parser accepts each listed flag and nothing else", ([, spec], { expect }) => {
    for (const [name, flag] of Object.entries(spec.flags as Readonly<Record<string, Flag>>)) {
      expect(() => parseFlags(spec, sample(name, flag))).not.toThrow()
    }
    expect(parseFlags(spec, ["-h"]).help).toBe(true)
    expect(() => parseFlags(spec, ["--not-a-flag"])).toThrow(/unknown option --not-a-flag/)
  })

  it("help wins over the rest of the line, even a bad flag, but not after --", async ({ expect }) => {
    expect((await call(["run", "missing.ts", "--concurrency", "0", "--help"])).code).toBe(0)
    expect((await call(["run", "--", "--help"])).code).toBe(2)
  })

  it("run and watch share one definition of their common flags", ({ expect }) => {
    for (const [name, flag] of Object.entries(runFlags)) {
      expect(runSpec.flags[name as keyof typeof runSpec.flags]).toBe(flag)
      expect(watchSpec.flags[name as keyof typeof watchSpec.flags]).toBe(flag)
    }
  })

  it("weft --help lists every command and points at their own help", async ({ expect }) => {
    const r = await call(["--help"])
    expect(r.code).toBe(0)
    for (const spec of every) expect(r.stdout).toContain(`weft ${spec.name}`)
    expect(r.stdout).toContain("weft <command> --help")
  })
})
