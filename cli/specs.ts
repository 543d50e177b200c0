/**
 * Every command's table: its synopsis, its flags (each with its meaning and
 * its check) and an example. The parser and `--help` both read these, so a
 * flag cannot be accepted without being documented. Light on purpose:
 * `--help` and a bad flag are answered before the engine loads.
 */
import { boolean, list, oneOf, string, wholeNumber, type CommandSpec } from "./flags.ts"
import { inspectFlag, reporters, runFlags } from "./runFlags.ts"
import { parseSize } from "../runtime/cache/size.ts"
import { UsageError } from "./common.ts"

const loadedFiles = "Files: .ts/.js modules whose default export is a workflow, or .json/.yaml specs (default: weft.ts in the current folder)."

export const runSpec = {
  name: "run",
  usage: ["weft run [file] [step...] [options]"],
  summary: "run a workflow, as fast as its dependency graph allows",
  flags: {
    ...runFlags,
    "dry-run": boolean("print the plan instead of running: levels, parallel groups, the critical path by history or estimates (JSON with --reporter json)"),
    resume: boolean("continue the last unfinished (killed or failed) run: replay the steps it finished whose definition and inputs are unchanged"),
    output: string("STEP", "after the run, print STEP's value to stdout (text as is, plain data as JSON); the reporter then writes to stderr"),
    inspect: inspectFlag,
    workers: string("URL", "run steps on `weft worker`s that take them from Redis at URL, like redis://ci-redis:6379 (default $WEFT_WORKERS); steps with runsOn: \"local\" stay here")
  },
  notes: [
    "Naming steps runs them and what they depend on. " + loadedFiles,
    "Each run's step logs go to .weft/logs/<run>/<step>.log (the last 20 runs kept).",
    "Exit codes: 0 succeeded, 1 failed, 2 bad workflow or usage, 130 interrupted."
  ],
  examples: [
    "weft run build.ts                         # every step of build.ts",
    "weft run build.ts test --concurrency 4     # test and what it needs, 4 at a time",
    "weft run build.ts --output report > report.json"
  ]
} as const satisfies CommandSpec

export const watchSpec = {
  name: "watch",
  usage: ["weft watch [file] [step...] [options]"],
  summary: "run, then rerun what each file change affects",
  flags: {
    ...runFlags,
    debounce: string("MS", "quiet time that ends a burst of changes (default 50)", wholeNumber(0, "a whole number of milliseconds, like --debounce 100")),
    ignore: list("GLOB", "never react to files matching GLOB (repeatable); .weft, node_modules, .git and steps' cache.outputs never count"),
    poll: boolean("poll for changes instead of file system events")
  },
  notes: [
    "Watched: the files steps declare in cache.inputs, and the workflow file with the local modules it imports.",
    "Keys: r rerun all, f rerun failed, c clear, q quit (with --reporter plain or json, also as lines on stdin).",
    "--concurrency, --reporter and the rest apply to each rerun; --trace FILE is replaced by each rerun. " + loadedFiles
  ],
  examples: ["weft watch build.ts test --ignore 'dist/**'"]
} as const satisfies CommandSpec

export const graphFormats = ["text", "mermaid", "dot", "json"] as const

export const graphSpec = {
  name: "graph",
  usage: ["weft graph [file] [--format F]", "weft graph --check [file]"],
  summary: "show the workflow's graph without running it",
  flags: {
    format: string("F", "text (default), mermaid, dot or json", oneOf(graphFormats)),
    check: boolean("instead, list steps that may run at the same time and write the same files, or write what the other reads (exit 1 if any)")
  },
  notes: [loadedFiles],
  examples: ["weft graph build.ts --format mermaid", "weft graph --check build.ts"]
} as const satisfies CommandSpec

export const verifySpec = {
  name: "verify",
  usage: ["weft verify [file] [step...] [options]"],
  summary: "find steps whose result depends on the schedule",
  flags: {
    runs: string("N", "how many schedules to try (default 50)", wholeNumber(1)),
    seed: string("S", "the seed schedules are drawn from (default: random, shown at the end); a finding's seed replays it", wholeNumber(0, "a whole number, like --seed 42")),
    concurrency: string("N", "the most steps at once; each schedule draws from 1 to this (default: the workflow's concurrency, else its number of steps)", wholeNumber(1)),
    faults: boolean("also inject faults (a step throws, a command gets SIGTERM, a timeout, an interrupted run resumed) and check that the promises hold"),
    "no-trace": boolean("do not trace the steps' file accesses (hazards and cache declarations); compare schedules only"),
    reporter: string("R", "tui (default on a terminal, not in CI), plain (default otherwise) or json (one finding per line)", oneOf(reporters))
  },
  notes: [
    "Each run is in a throwaway copy of the workflow's folder, with the cache and journal off: your files are not touched. Naming steps verifies them and what they depend on. " + loadedFiles,
    "Progress goes to stderr with plain, is drawn live with tui, and is not shown with json (stdout then holds the findings alone).",
    "Exit codes: 0 nothing found, 1 findings, 2 bad workflow or usage, 130 interrupted."
  ],
  examples: [
    "weft verify build.ts                       # 50 schedules of every step",
    "weft verify build.ts test --runs 200       # test and what it needs, 200 schedules",
    "weft verify build.ts --seed 1234           # replay a finding's search"
  ]
} as const satisfies CommandSpec

const runRefs = "A run is its id (20261125-225447-3f2a), a unique prefix of one, or -1 for the last run, -2 for the one before, and so on."
const historyFolder = "Runs live in .weft/history beside the workflow; the file (default weft.ts, else the current folder) only says which folder."

export const historySpec = {
  name: "history",
  usage: ["weft history [file] [options]"],
  summary: "recent runs: status, duration, steps run, cached and failed",
  flags: {
    last: string("N", "how many runs to list (default 20)", wholeNumber(1)),
    json: boolean("print JSON instead of a table")
  },
  notes: [historyFolder],
  examples: ["weft history build.ts --last 5"]
} as const satisfies CommandSpec

export const reportSpec = {
  name: "report",
  usage: ["weft report [run] [file] [--json]"],
  summary: "one run's steps and critical path (default: the last run)",
  flags: { json: boolean("print JSON instead of a table") },
  notes: [runRefs, historyFolder],
  examples: ["weft report -2 build.ts      # the run before the last"]
} as const satisfies CommandSpec

export const workerSpec = {
  name: "worker",
  usage: ["weft worker <redis-url> [options]"],
  summary: "run the steps of `weft run --workers` runs, from the project checked out here",
  flags: {
    concurrency: string("N", "steps at once (default 1)", wholeNumber(1)),
    name: string("NAME", "this worker's name in the runs' events (default: host name and pid)"),
    "allow-all": boolean("also run the steps of runs started with --allow-all (every step sees this machine's whole environment); without it they are refused")
  },
  notes: [
    "Run it in the project's folder, checked out at the coordinator's commit and installed: a job whose workflow differs from this checkout is refused.",
    "Steps see this machine's environment, as their permissions allow; secrets are masked here, before anything goes to Redis. Ctrl-C stops the running steps and returns their jobs to the queue."
  ],
  examples: ["weft worker redis://ci-redis:6379 --concurrency 4 --name runner-1"]
} as const satisfies CommandSpec

export const initSpec = {
  name: "init",
  usage: ["weft init [--force]"],
  summary: "write a starter weft.ts here and keep .weft/ out of git",
  flags: { force: boolean("replace an existing weft.ts with the starter") },
  notes: ["Writes weft.ts (a function step, a command and a cached step) and adds .weft/ (weft's runs, logs and cache) to .gitignore. Then: npx weft run"],
  examples: ["npx weft init && npx weft run"]
} as const satisfies CommandSpec

const size = (text: string, flag: string): number => {
  const bytes = parseSize(text)
  if (bytes === undefined) throw new UsageError(`${flag} must be a size like 500MB, 2GiB or 1048576 (bytes), not "${text}"`)
  return bytes
}

const cacheFolder = "The file only locates the folder (default: weft.ts, else the current folder); the store is $WEFT_CACHE_DIR, else .weft/cache there."

export const cacheSpecs = {
  stats: {
    name: "cache stats",
    usage: ["weft cache stats [file] [options]"],
    summary: "the step cache's entries and size, and the hit rates of recent runs",
    flags: {
      runs: string("N", "how many recent runs the hit rates cover (default 10)", wholeNumber(1)),
      json: boolean("print JSON instead of text")
    },
    notes: [cacheFolder],
    examples: ["weft cache stats --runs 20"]
  },
  prune: {
    name: "cache prune",
    usage: ["weft cache prune [file] [--max-size SIZE]"],
    summary: "drop expired entries, then least recently used ones until the cache is under a size",
    flags: {
      "max-size": string("SIZE", "the size to trim to (default $WEFT_CACHE_MAX_SIZE, else 5GiB, the budget runs keep the store under): bytes, or a number with KB, MB, GB (1000s) or KiB, MiB, GiB (1024s)", size)
    },
    notes: [cacheFolder],
    examples: ["weft cache prune --max-size 500MB"]
  },
  clear: {
    name: "cache clear",
    usage: ["weft cache clear [file]"],
    summary: "remove every entry of the step cache",
    flags: {},
    notes: [cacheFolder],
    examples: ["weft cache clear"]
  }
} as const satisfies Record<string, CommandSpec>
