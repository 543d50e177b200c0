/**
 * `weft init`: a starter workflow and a `.gitignore` line for `.weft/`, so
 * that a project's first run takes one command; never over a workflow the
 * user already has.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { eventsOf, removeTempDirs, repoRoot, tempDir, weft } from "../test/fixtures/cli/harness.ts"
import { main } from "./main.ts"
import type { Io } from "./common.ts"

afterAll(removeTempDirs)

/** A project that has weft installed (a link to this repository), and nothing else. */
const project = (): string => {
  const dir = tempDir("weft-init-")
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "fresh", private: true, type: "module" }))
  mkdirSync(path.join(dir, "node_modules"))
  symlinkSync(repoRoot, path.join(dir, "node_modules", "weft"))
  return dir
}

/** Runs `weft …args` in this process (no workflow is loaded by init), collecting what it prints. */
const init = async (dir: string, args: ReadonlyArray<string> = []) => {
  let stdout = ""
  let stderr = ""
  const io: Io = { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text), cwd: dir }
  const code = await main(["init", ...args], io)
  return { code, stdout, stderr }
}

const read = (dir: string, file: string): string => readFileSync(path.join(dir, file), "utf8")

describe("weft init", () => {
  it("writes a starter workflow that `weft run` runs as it is: a function step, a command and a cached step", async () => {
    const dir = project()
    const made = await init(dir)
    expect(made).toMatchObject({ code: 0, stderr: "" })
    expect(made.stdout).toContain("npx weft run")
    const source = read(dir, "weft.ts")
    expect(source).toMatch(/import \{[^}]*\bcmd\b[^}]*\} from "weft"/)
    expect(source).toMatch(/cache: true/)

    const first = await weft(["run", "--reporter", "json"], { cwd: dir })
    expect(first.stderr).toBe("")
    expect(first.code).toBe(0)
    const ends = (stdout: string) => Object.fromEntries(eventsOf(stdout).flatMap((e) => (e.type === "step:end" ? [[e.step, e.status]] : [])))
    expect(Object.values(ends(first.stdout))).toEqual(["succeeded", "succeeded", "succeeded"])
    const second = await weft(["run", "--reporter", "json"], { cwd: dir })
    expect(second.code).toBe(0)
    expect(Object.values(ends(second.stdout))).toContain("cached")
  }, 60_000)

  it("refuses to overwrite an existing weft.ts (exit 2, saying how), and overwrites it with --force", async () => {
    const dir = project()
    writeFileSync(path.join(dir, "weft.ts"), "// mine\n")
    const refused = await init(dir)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe("weft: weft.ts already exists; weft init leaves it as it is. Run `weft init --force` to replace it with the starter.\n")
    expect(read(dir, "weft.ts")).toBe("// mine\n")
    // Nothing was half done: no .gitignore either.
    expect(() => read(dir, ".gitignore")).toThrow()

    const forced = await init(dir, ["--force"])
    expect(forced.code).toBe(0)
    expect(read(dir, "weft.ts")).toMatch(/export default workflow\(/)
  })

  it("adds .weft/ to .gitignore once: creating it, appending to one without a final newline, never twice", async () => {
    const created = project()
    await init(created)
    expect(read(created, ".gitignore")).toBe(".weft/\n")
    await init(created, ["--force"])
    expect(read(created, ".gitignore")).toBe(".weft/\n")

    const existing = project()
    writeFileSync(path.join(existing, ".gitignore"), "node_modules/\ndist")
    const made = await init(existing)
    expect(read(existing, ".gitignore")).toBe("node_modules/\ndist\n.weft/\n")
    expect(made.stdout).toContain(".gitignore")

    // Already ignored, in any of the usual spellings: left alone.
    const ignored = project()
    writeFileSync(path.join(ignored, ".gitignore"), "/.weft\n")
    const quiet = await init(ignored)
    expect(read(ignored, ".gitignore")).toBe("/.weft\n")
    expect(quiet.stdout).not.toContain(".gitignore")
  })

  it("says how to make weft.ts an ES module in a package that is not one (npm init writes \"commonjs\")", async () => {
    const dir = project()
    expect((await init(dir)).stdout).not.toContain("type")
    const commonjs = project()
    writeFileSync(path.join(commonjs, "package.json"), JSON.stringify({ name: "fresh", type: "commonjs" }))
    const made = await init(commonjs)
    expect(made.code).toBe(0)
    expect(made.stdout).toContain(`package.json does not say "type": "module"`)
    expect(made.stdout).toContain("npm pkg set type=module")
    expect(read(commonjs, "package.json")).toBe(JSON.stringify({ name: "fresh", type: "commonjs" }))
  })

  it("takes no files or unknown flags", async () => {
    const dir = project()
    expect(await init(dir, ["--forse"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown option --forse for weft init\. Did you mean "--force"\?/) })
    expect(await init(dir, ["other.ts"])).toMatchObject({ code: 2, stderr: expect.stringContaining("init takes no file") })
  })
})
