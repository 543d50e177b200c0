import { describe, expect, it } from "vitest"
import { keyAction } from "./keys.ts"

describe("keyAction", () => {
  it("binds the arrows, enter and the page keys everywhere", () => {
    expect([{ upArrow: true }, { downArrow: true }, { return: true }, { pageUp: true }, { pageDown: true }].map((key) => keyAction("", key, false)))
      .toEqual(["up", "down", "toggle", "pageUp", "pageDown"])
  })

  it("Ctrl-C interrupts and q quits, in watch mode or not", () => {
    for (const watching of [false, true]) {
      expect(keyAction("c", { ctrl: true }, watching)).toBe("interrupt")
      expect(keyAction("q", {}, watching)).toBe("quit")
    }
  })

  it("r, f and c act only in watch mode", () => {
    expect(["r", "f", "c"].map((k) => keyAction(k, {}, true))).toEqual(["rerunAll", "rerunFailed", "clear"])
    expect(["r", "f", "c", "x"].map((k) => keyAction(k, {}, false))).toEqual([undefined, undefined, undefined, undefined])
  })
})
