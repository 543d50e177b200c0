/**
 * The dashboard's colours, in one place so that `NO_COLOR` (`color: false`)
 * turns every one of them off: no colour, no bold, no dim, no inverse, so the
 * output holds no escape sequence of ours. Meaning never rests on colour
 * alone: icons, the `›` selection mark and the `*` critical-path mark say it
 * in plain text too.
 */
import type { StepStatusView } from "./model.ts"

/** Props for Ink's `<Text>`. */
export interface Style {
  readonly color?: string | undefined
  readonly bold?: boolean | undefined
  readonly dimColor?: boolean | undefined
  readonly inverse?: boolean | undefined
}

export interface Theme {
  readonly color: boolean
  readonly status: (status: StepStatusView) => Style
  readonly dim: Style
  readonly accent: Style
  readonly critical: Style
  readonly selected: Style
  readonly error: Style
  readonly warning: Style
  readonly ok: Style
}

const none: Style = {}

const statusColors: Record<StepStatusView, string | undefined> = {
  pending: undefined,
  ready: undefined,
  running: "cyan",
  succeeded: "green",
  cached: "green",
  failed: "red",
  skipped: "gray",
  cancelled: "yellow"
}

export const makeTheme = (color: boolean): Theme =>
  color
    ? {
      color,
      status: (status) => ({ color: statusColors[status], dimColor: status === "pending" }),
      dim: { dimColor: true },
      accent: { color: "cyan", bold: true },
      critical: { color: "magenta", bold: true },
      selected: { inverse: true },
      error: { color: "red", bold: true },
      warning: { color: "yellow" },
      ok: { color: "green", bold: true }
    }
    : {
      color,
      status: () => none,
      dim: none,
      accent: none,
      critical: none,
      selected: none,
      error: none,
      warning: none,
      ok: none
    }
