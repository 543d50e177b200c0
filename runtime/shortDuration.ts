/**
 * A duration in at most six characters, for narrow columns and live lines:
 * the dashboard's, the forecast's ETA and the plain reporter's "still
 * running" line print the same figures. (The summary uses `formatDuration`
 * from `Summary.ts`.)
 *
 * @example
 * shortDuration(340) // => "340ms"
 * shortDuration(125_000) // => "2m05s"
 */
export const shortDuration = (ms: number): string => {
  if (!(ms >= 0)) return "0ms"
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 9950) return `${(ms / 1000).toFixed(1)}s`
  if (ms < 59_500) return `${Math.round(ms / 1000)}s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
}
