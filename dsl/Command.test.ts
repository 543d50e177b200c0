import { describe, expect, it } from "vitest"
import { cmd, displayOf, quote, sh, shell } from "./Command.ts"
import { makeRedactor } from "../runtime/permissions/redact.ts"

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

  describe("shown with secrets masked (displayOf)", () => {
    // Every character weft's quoting, JSON or inspect would escape, and one outside ASCII.
    const token = `abc'def"g\\h$i \`é-123456`
    const redact = makeRedactor([token])
    /** The forms of the token quoting would produce: none may be in a display. */
    const forms = [token, token.replaceAll("'", `'\\''`), JSON.stringify(token).slice(1, -1), "abc", "def", "123456"]
    const clean = (text: string) => forms.filter((form) => text.includes(form))

    it("masks an interpolated secret before quoting it, in sh and cmd alike", () => {
      const script = sh`echo ${token} ${["x", `Bearer ${token}`]}; exit 1`
      expect(script.display).toContain(`'abc'\\''def`)
      expect(displayOf(script, redact)).toBe(`echo '***' x 'Bearer ***'; exit 1`)
      const argv = cmd(["curl", "-H", `Authorization: ${token}`, token])
      expect(displayOf(argv, redact)).toBe(`curl -H 'Authorization: ***' '***'`)
      for (const command of [script, argv]) expect(clean(displayOf(command, redact))).toEqual([])
    })
    it("masks a secret written into the script's own text, and in a command made by hand", () => {
      expect(displayOf(shell(`echo ${token}`), redact)).toBe("echo ***")
      expect(displayOf({ _tag: "Command", argv: ["x"], display: `x ${token}` }, redact)).toBe("x ***")
    })
    it("shows the command as written when there is nothing to mask", () => {
      const script = sh`echo ${"a b"}`
      expect(displayOf(script, undefined)).toBe(script.display)
      expect(displayOf(script, makeRedactor(["unrelated"]))).toBe("echo 'a b'")
    })
  })
})
