/**
 * Watch mode's messages and the run's warnings, above the steps. A
 * definition error leads, in red: watch goes on with the last good
 * definition, and the screen must say so rather than look healthy.
 */
import { Box, Text } from "ink"
import { createElement as h } from "react"
import type { Theme } from "../theme.ts"
import type { BannerLine } from "../watchBanner.ts"

export interface BannerProps {
  readonly lines: ReadonlyArray<BannerLine>
  /** Lines available: the rest are cut. */
  readonly height: number
  readonly theme: Theme
}

export const Banner = ({ lines, height, theme }: BannerProps) => {
  if (height <= 0 || lines.length === 0) return null
  return h(Box, { flexDirection: "column" },
    ...lines.slice(0, height).map((line, i) =>
      h(Text, {
        key: i,
        wrap: "truncate-end",
        ...(line.tone === "error" ? theme.error : line.tone === "warning" ? theme.warning : line.tone === "change" ? theme.accent : theme.dim)
      }, line.text)))
}
