/** Kept apart from `cache.ts` so that `weft --help` does not load the cache store. */

/** The cache commands' part of `weft --help`. */
export const cacheHelp = `Cache commands (file only locates the folder; default: weft.ts, else the current folder):
  weft cache stats [file] [--runs N] [--json]   entries, size, and hit rates of the last N runs (default 10)
  weft cache prune [file] [--max-size SIZE]     drop expired entries, then least recently used ones
                                                until under SIZE (default $WEFT_CACHE_MAX_SIZE, else 5GiB)
  weft cache clear [file]                       remove every entry
  Sizes: bytes, or a number with KB, MB, GB (1000s) or KiB, MiB, GiB (1024s).
`
