/**
 * A process that takes a lease and keeps it, for FileStore's lease tests:
 * `node leaseHolderFixture.ts <store dir> <key>` prints "held" once it holds
 * the key, then waits to be killed.
 */
import { makeFileStore } from "../FileStore.ts"

const [dir, key] = process.argv.slice(2)
if (dir === undefined || key === undefined) {
  process.stderr.write("usage: leaseHolderFixture.ts <dir> <key>\n")
  process.exit(2)
}
await makeFileStore(dir).lease(key)
process.stdout.write("held\n")
setInterval(() => {}, 60_000)
