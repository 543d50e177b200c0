import { describe, expect, it } from "vitest"
import { cmd, quote, sh } from "./Command.ts"

describe("commands", () => {
  it("sh quotes every interpolated value so it stays one word", () => {
    const evil = "x'; rm -rf ~ #"
    const c = sh`echo ${evil} ${["a b", "$(id)"]}`
    expect(c.argv).toEqual(["/bin/sh", "-c", `echo 'x'\\''; rm -rf ~ #' 'a b' '$(id)'`])
  })
  it("sh takes the template's raw text: backslashes reach the shell and the display as written", () => {
    const c = sh`echo a.b.c | sed 's/\./,/g'`
    expect(c.argv[2]).toBe("echo a.b.c | sed 's/" + "\\" + "./,/g'")
    expect(c.display).toBe(c.argv[2])
    // A JavaScript escape is shell text too: no NUL byte, no newline.
    expect(sh`printf 'x\0y\n'`.argv[2]).toBe("printf 'x" + "\\" + "0y" + "\\" + "n'")
    // A line continuation stays one.
    expect(sh`echo a \
b`.argv[2]).toBe("echo a " + "\\" + "\nb")
  })
  it("sh still quotes interpolated values between raw text", () => {
    const dir = "my dir"
    expect(sh`ls ${dir} | grep '\.ts$' > ${["out 1", "x"]}`.argv[2]).toBe("ls 'my dir' | grep '" + "\\" + ".ts$' > 'out 1' x")
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
