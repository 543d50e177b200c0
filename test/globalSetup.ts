/**
 * Says, before any test runs, which tests run in a reduced form because this
 * machine lacks something npm does not install: today bubblewrap, without
 * which the sandbox tests check weft's refusal instead of the sandbox itself.
 *
 * `.ci/run` installs what is missing and sets `WEFT_REQUIRE_ALL=1`, which
 * turns a reduced test into a failed run: a test that silently proves less
 * must never pass CI.
 */
import { bwrapWorks } from "../runtime/permissions/sandbox.ts"

export default function setup(): void {
  const missing: Array<string> = []
  if (!bwrapWorks()) {
    missing.push(
      "runtime/permissions/sandbox.test.ts checks only the refusal, not the sandbox, and isolateNet.test.ts only the warning, not an isolated step kept off the network: bubblewrap (bwrap) is missing or cannot create namespaces here.\n" +
        "    Install it (Debian/Ubuntu: apt-get install bubblewrap) and run npm test again."
    )
  }
  if (missing.length === 0) return
  const banner = ["", "!".repeat(78), "! weft: SOME TESTS RUN REDUCED ON THIS MACHINE", ...missing.map((m) => `  - ${m}`), "!".repeat(78), ""].join("\n")
  process.stderr.write(`${banner}\n`)
  if (process.env.WEFT_REQUIRE_ALL === "1") {
    throw new Error("WEFT_REQUIRE_ALL=1: every test must run in full here; install what is listed above")
  }
}
