/**
 * `net` for isolated steps: without `net: true` an isolated step (and every
 * program weft starts for it) has no network where bubblewrap works; where it
 * does not, the run warns before it starts, naming the steps.
 */
import { createServer, type Server } from "node:net"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { removeRunDirs, runFile, warningsOf } from "../../test/fixtures/isolate/runFile.ts"
import { bwrapWorks, setBwrapWorks } from "./sandbox.ts"

let server: Server
let port = 0
beforeAll(async () => {
  // Loopback of this machine only: a step that reaches it has the machine's network.
  // A client that connects and hangs up at once resets the connection: not an error of the test's.
  server = createServer((socket) => {
    socket.on("error", () => {})
    socket.end("hello\n")
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  port = (server.address() as { port: number }).port
})
afterAll(() => {
  server.close()
  removeRunDirs()
})
const bwrapSetting = process.env.WEFT_BWRAP
afterEach(() => {
  setBwrapWorks(undefined)
  if (bwrapSetting === undefined) delete process.env.WEFT_BWRAP
  else process.env.WEFT_BWRAP = bwrapSetting
})

const connect = () => `async () => {
  const net = await import("node:net")
  return new Promise((resolve) => {
    const socket = net.connect(${port}, "127.0.0.1")
    socket.on("connect", () => { socket.destroy(); resolve("connected") })
    socket.on("error", (error) => resolve(error.code))
  })
}`

const connectWith = (program: string) =>
  `() => execFileSync(${JSON.stringify(program)}, ["-e", "require('net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.log(e.code); process.exit(0) })"]).toString().trim()`

describe("isolate: true and the network", () => {
  it("without net: true the step and the programs weft starts for it cannot reach a server on this machine; with it they can", async () => {
    const { result, events } = await runFile(`
      .step("off", { permissions: { isolate: true } }, ${connect()})
      .step("on", { permissions: { isolate: true, net: true } }, ${connect()})
      .step("programOff", { permissions: { isolate: true, run: ["node"] } }, ${connectWith("node")})
      .step("programOn", { permissions: { isolate: true, run: ["node"], net: true } }, ${connectWith("node")})`)
    expect(result.outputs.on).toBe("connected")
    expect(result.outputs.programOn).toBe("connected")
    if (bwrapWorks()) {
      expect(result.outputs.off).not.toBe("connected")
      expect(result.outputs.off).toMatch(/^E[A-Z]+$/)
      expect(result.outputs.programOff).not.toBe("connected")
      expect(warningsOf(events)).toEqual([])
    } else {
      expect(warningsOf(events).join("\n")).toContain(`the 2 isolated steps ("off", "programOff") will reach the network`)
    }
  }, 60_000)

  it("where bubblewrap does not work, says before the run starts which isolated steps keep the network", async () => {
    process.env.WEFT_BWRAP = "/nonexistent/bwrap"
    const { result, events } = await runFile(`
      .step("fetcher", { permissions: { isolate: true } }, ${connect()})
      .step("declared", { permissions: { isolate: true, net: true } }, () => 1)`)
    expect(warningsOf(events)).toEqual([
      `bubblewrap (bwrap) is not available here, so the isolated step ("fetcher") will reach the network although it does not declare net: true: weft cannot take the network away without it; install the bubblewrap package (Debian/Ubuntu: apt install bubblewrap)`
    ])
    expect(events.findIndex((e) => e.type === "run:warning")).toBeLessThan(events.findIndex((e) => e.type === "step:start"))
    // Never silently: the step runs, and the warning said so.
    expect(result.outputs.fetcher).toBe("connected")
  }, 60_000)
})
