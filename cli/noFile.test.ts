/**
 * A command given no file in a folder without weft.ts says what to do with
 * that command (name a file, or create weft.ts with `weft init`), never to
 * run another command. Commands that only read a folder's records do not
 * need the file at all.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, it } from "vitest"
import { callMain } from "../test/fixtures/cli/harness.ts"

const empty = mkdtempSync(path.join(tmpdir(), "weft-no-file-"))
afterAll(() => rmSync(empty, { recursive: true, force: true }))

const call = (argv: ReadonlyArray<string>) => callMain(argv, empty)

const loading = ["run", "watch", "graph"] as const

describe("no workflow file", () => {
  it.for(loading)("weft %s in a folder without weft.ts: name a file or create one, in this command's words", async (command, { expect }) => {
    const r = await call([command])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(/^weft: weft\.ts: no such file/)
    expect(r.stderr).toContain(`weft ${command} path/to/workflow.ts`)
    expect(r.stderr).toContain("weft init")
    for (const other of loading.filter((c) => c !== command)) expect(r.stderr).not.toMatch(new RegExp(`weft ${other}\\b`))
    expect(r.stdout).toBe("")
  })

  it.for(loading)("weft %s missing.ts: checks the path, names no other command and no unrelated example", async (command, { expect }) => {
    const r = await call([command, "missing.ts"])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(/^weft: missing\.ts: no such file/)
    expect(r.stderr).not.toMatch(/examples\/view-switch/)
    for (const other of loading.filter((c) => c !== command)) expect(r.stderr).not.toMatch(new RegExp(`weft ${other}\\b`))
  })

  it.for([["history"], ["report"], ["cache", "stats"]])("weft %s reads the folder's records without a file (exit 0 or a plain 'nothing yet')", async (argv, { expect }) => {
    const r = await call(argv)
    expect(r.stderr).not.toMatch(/no such file/)
    expect(r.stderr.split("\n").filter((line) => /^\s+at /.test(line))).toEqual([])
  })
})
