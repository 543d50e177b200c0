/** The keys that work now: watch mode's (r, f, c, q) when there are controls, always the selection and log keys. */
import { Text } from "ink"
import { createElement as h } from "react"
import type { Theme } from "../theme.ts"

export interface FooterProps {
  readonly watching: boolean
  readonly theme: Theme
}

export const footerText = (watching: boolean): string =>
  watching
    ? "r rerun all · f rerun failed · c clear · q quit · ↑/↓ select · enter expand · PgUp/PgDn scroll"
    : "↑/↓ select · enter expand log · PgUp/PgDn scroll · q/Ctrl-C cancel"

export const Footer = ({ watching, theme }: FooterProps) => h(Text, { ...theme.dim, wrap: "truncate-end" }, footerText(watching))
