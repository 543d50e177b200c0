/** Sizes as people write them (`500MB`, `1.5 GiB`) and as weft shows them. */

const units: Readonly<Record<string, number>> = {
  "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, k: 1e3, m: 1e6, g: 1e9
}

/** `500MB`, `1.5 GiB`, `1024` (bytes) as bytes, or `undefined` when it is not a size. */
export const parseSize = (text: string): number | undefined => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (match === null) return undefined
  const unit = units[match[2]!.toLowerCase()]
  return unit === undefined ? undefined : Math.floor(Number(match[1]) * unit)
}

/** `12.3 MB`, `512 B`. */
export const formatBytes = (bytes: number): string => {
  if (bytes < 1000) return `${bytes} B`
  const [unit, size] = bytes < 1e6 ? ["KB", 1e3] : bytes < 1e9 ? ["MB", 1e6] : ["GB", 1e9]
  return `${(bytes / size).toFixed(1)} ${unit}`
}
