/**
 * Every bad flag value gets weft's own message: exit 2, the flag named, what
 * it takes, a pointer to the command's help; never Node's parseArgs text
 * ("argument is ambiguous") nor a stack trace.
 */
import { describe, it } from "vitest"
import { callMain } from "../test/fixtures/cli/harness.ts"

const call = (argv: ReadonlyArray<string>) => callMain(argv)

const cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
  [["run", "wf.ts", "--concurrency", "-1"], /^weft: --concurrency must be a whole number of at least 1, not "-1"$/m],
  [["run", "wf.ts", "--concurrency=-1"], /^weft: --concurrency must be a whole number of at least 1, not "-1"$/m],
  [["run", "wf.ts", "--concurrency", "abc"], /^weft: --concurrency must be a whole number of at least 1, not "abc"$/m],
  [["run", "wf.ts", "--concurrency", "2.5"], /^weft: --concurrency must be a whole number of at least 1, not "2.5"$/m],
  [["run", "wf.ts", "--concurrency"], /^weft: --concurrency needs a value, like --concurrency N$/m],
  [["run", "wf.ts", "--trace", "--force"], /^weft: --trace needs a value, like --trace FILE$/m],
  [["run", "wf.ts", "--dry-run=yes"], /^weft: --dry-run takes no value/m],
  [["run", "wf.ts", "--reporter", "foo"], /^weft: --reporter must be tui, plain or json, not "foo"$/m],
  [["run", "wf.ts", "--reporter", "jsn"], /^weft: --reporter must be tui, plain or json, not "jsn"\. Did you mean "json"\?$/m],
  [["run", "wf.ts", "--concurency", "2"], /^weft: unknown option --concurency for weft run\. Did you mean "--concurrency"\?$/m],
  [["run", "wf.ts", "-x"], /^weft: unknown option -x for weft run\.$/m],
  [["watch", "wf.ts", "--debounce", "x"], /^weft: --debounce must be a whole number of milliseconds, like --debounce 100, not "x"$/m],
  [["watch", "wf.ts", "--debounce", "-5"], /^weft: --debounce must be a whole number of milliseconds, like --debounce 100, not "-5"$/m],
  [["watch", "wf.ts", "--pol"], /^weft: unknown option --pol for weft watch\. Did you mean "--poll"\?$/m],
  [["graph", "wf.ts", "--format", "svg"], /^weft: --format must be text, mermaid, dot or json, not "svg"$/m],
  [["history", "--last", "0"], /^weft: --last must be a whole number of at least 1, not "0"$/m],
  [["history", "--last", "-3"], /^weft: --last must be a whole number of at least 1, not "-3"$/m],
  [["history", "--last"], /^weft: --last needs a value, like --last N$/m],
  [["report", "--jsn"], /^weft: unknown option --jsn for weft report\. Did you mean "--json"\?$/m],
  [["cache", "prune", "--max-size", "12Q"], /^weft: --max-size must be a size like 500MB, 2GiB or 1048576 \(bytes\), not "12Q"$/m],
  [["cache", "prune", "--max-size"], /^weft: --max-size needs a value, like --max-size SIZE$/m],
  [["cache", "stats", "--runs", "-1"], /^weft: --runs must be a whole number of at least 1, not "-1"$/m],
  [["cache", "stats", "--max-size", "1GB"], /^weft: --max-size applies to weft cache prune, not weft cache stats$/m],
  [["cache", "prun"], /^weft: unknown cache subcommand "prun"\. Did you mean "prune"\?/m],
  [["grap"], /^weft: unknown command "grap"\. Did you mean "graph"\?/m]
]

describe("bad flags: weft's own message, exit 2", () => {
  it.for(cases)("weft %j", async ([argv, says], { expect }) => {
    const r = await call(argv)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(says)
    expect(r.stderr).toMatch(/Run `weft (\w+ ){0,2}--help` for/)
    expect(r.stderr).not.toMatch(/ambiguous|ERR_PARSE_ARGS|argument missing|Option '/)
    expect(r.stderr.split("\n").filter((line) => /^\s+at /.test(line))).toEqual([])
    expect(r.stdout).toBe("")
  })
})
