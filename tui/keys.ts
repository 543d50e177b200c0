/**
 * What a key press means. Pure, so the bindings are tested without a
 * terminal; the dashboard carries the action out. Watch mode's keys (r, f, c)
 * mean something only when there are watch controls to call.
 *
 * Ctrl-C arrives here as a key, not as SIGINT: the dashboard reads the
 * keyboard in raw mode, where the terminal sends no signal.
 */
import type { Key } from "ink"

export type KeyAction =
  | "up"
  | "down"
  | "toggle"
  | "pageUp"
  | "pageDown"
  | "rerunAll"
  | "rerunFailed"
  | "clear"
  | "quit"
  | "interrupt"

/** The action of a key press, or `undefined` for a key that does nothing. */
export const keyAction = (input: string, key: Partial<Key>, watching: boolean): KeyAction | undefined => {
  if (key.ctrl === true && input === "c") return "interrupt"
  if (key.upArrow === true) return "up"
  if (key.downArrow === true) return "down"
  if (key.return === true) return "toggle"
  if (key.pageUp === true) return "pageUp"
  if (key.pageDown === true) return "pageDown"
  if (key.ctrl === true || key.meta === true) return undefined
  if (input === "q") return "quit"
  if (!watching) return undefined
  if (input === "r") return "rerunAll"
  if (input === "f") return "rerunFailed"
  if (input === "c") return "clear"
  return undefined
}
