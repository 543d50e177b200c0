import { describe, expect, it } from "vitest"
import { cmd, quote, sh } from "./Command.ts"

describe("commands", () => {
  it("sh quotes every interpolated value so it stays one word", () => {
    const evil = "x'; rm -rf ~ #"
    const c = sh`echo ${evil} ${["a b", "$(id)"]}`
    expect(c.argv).toEqual(["/bin/sh", "-c", `echo 'x'\\''; rm -rf ~ #' 'a b' '$(id)'`])
  })
  it("cmd passes argv as given, without a shell", () => {
    expect(cmd(["tsc", "-b"], { cwd: "pkg" })).toMatchObject({ argv: ["tsc", "-b"], cwd: "pkg", display: "tsc -b" })
  })
  it("quote leaves safe words alone", () => {
    expect(quote("src/a.ts")).toBe("src/a.ts")
    expect(quote("a b")).toBe("'a b'")
    expect(quote("")).toBe("''")
  })
})
