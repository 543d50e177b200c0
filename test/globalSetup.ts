/**
 * Says, before any test runs, which tests run in a reduced form because this
 * machine lacks something npm does not install: bubblewrap, without which
 * the sandbox tests check weft's refusal instead of the sandbox itself, and
 * Perl, without which the spawner's tests do not run; and redis-server,
 * without which the workers' tests fail (they start a real one); and strace,
 * without which verify's tracing tests check only the warning for command steps.
 *
 * `.ci/run` installs what is missing and sets `WEFT_REQUIRE_ALL=1`, which
 * turns a reduced test into a failed run: a test that silently proves less
 * must never pass CI.
 */
import { existsSync } from "node:fs"
import { bwrapWorks } from "../runtime/permissions/sandbox.ts"
import { hasRedisServer, redisServerPath } from "./fixtures/redis.ts"
import { straceProblem } from "../properties/internal/tracing/index.ts"

export default function setup(): void {
  const missing: Array<string> = []
  if (!bwrapWorks()) {
    missing.push(
      "runtime/permissions/sandbox.test.ts checks only the refusal, not the sandbox, and isolateNet.test.ts only the warning, not an isolated step kept off the network: bubblewrap (bwrap) is missing or cannot create namespaces here.\n" +
        "    Install it (Debian/Ubuntu: apt-get install bubblewrap) and run npm test again."
    )
  }
  if (process.platform === "linux" && !existsSync("/usr/bin/perl")) {
    missing.push(
      "runtime/internal/spawner.test.ts, spawnerFailure.test.ts, cli/spawner.test.ts and properties/faultsHelpers.test.ts are skipped, and the spawner half of runtime/Process.test.ts runs through Node's spawn: weft starts commands through a Perl helper (runtime/internal/spawner.ts), and /usr/bin/perl is missing, so commands start through Node's spawn here.\n" +
        "    Install it (Debian/Ubuntu: apt-get install perl-base) and run npm test again."
    )
  }
  if (!hasRedisServer()) {
    missing.push(
      `runtime/workers/workers.test.ts, faults.test.ts and lease.test.ts fail: weft's workers are tested against a real Redis, and ${redisServerPath} is missing.\n` +
        "    Install it (Debian/Ubuntu: apt-get install redis-server) and run npm test again."
    )
  }
  const strace = process.platform === "linux" ? straceProblem() : undefined
  if (strace !== undefined) {
    missing.push(
      `properties/tracing.test.ts checks only the warning, not the hazards and cache declarations it finds in command steps: ${strace}.\n` +
        "    Install it (Debian/Ubuntu: apt-get install strace; in a container, allow ptrace) and run npm test again."
    )
  }
  if (missing.length === 0) return
  const banner = ["", "!".repeat(78), "! weft: SOME TESTS RUN REDUCED ON THIS MACHINE", ...missing.map((m) => `  - ${m}`), "!".repeat(78), ""].join("\n")
  process.stderr.write(`${banner}\n`)
  if (process.env.WEFT_REQUIRE_ALL === "1") {
    throw new Error("WEFT_REQUIRE_ALL=1: every test must run in full here; install what is listed above")
  }
}
