/**
 * The ETA as the dashboard's header and the plain reporter's lines show it:
 * `ETA ~12s` when every step left has an estimate, `ETA ~12s+` when a few do
 * not (the figure is a lower bound), nothing when most do not or nothing is
 * left: a number that is mostly guesswork would mislead.
 *
 * @example
 * formatEta({ ms: 12_000, left: 4, unknown: 1 }) // => "ETA ~12s+"
 */
import { shortDuration } from "../shortDuration.ts"
import type { Eta } from "./eta.ts"

export const formatEta = (e: Eta): string | undefined => {
  if (e.left === 0 || e.unknown * 2 > e.left) return undefined
  return `ETA ~${shortDuration(e.ms)}${e.unknown > 0 ? "+" : ""}`
}
