import { describe, expect, it } from "vitest"
import type { Trace } from "../runtime/trace/Trace.ts"
import { tracePicture } from "./tracePicture.ts"

const trace: Trace = {
  displayTimeUnit: "ms",
  traceEvents: [
    { name: "process_name", ph: "M", pid: 1, tid: 0, args: { name: "weft: w r1" } },
    { name: "thread_name", ph: "M", pid: 1, tid: 0, args: { name: "cached" } },
    { name: "thread_name", ph: "M", pid: 1, tid: 2, args: { name: "slot 2" } },
    { name: "thread_name", ph: "M", pid: 1, tid: 1, args: { name: "slot 1" } },
    { name: "build", ph: "X", pid: 1, tid: 1, ts: 0, dur: 60_000, args: { status: "succeeded", attempt: 1 } },
    { name: "a-very-long-step-name-that-cannot-fit", ph: "X", pid: 1, tid: 2, ts: 0, dur: 10_000, args: { status: "failed", attempt: 1 } },
    { name: "x", ph: "X", pid: 1, tid: 2, ts: 20_000, dur: 100, args: { status: "succeeded", attempt: 1 } },
    { name: "lint", ph: "i", s: "t", pid: 1, tid: 0, ts: 5_000, args: { status: "cached" } }
  ]
}

describe("tracePicture", () => {
  it("draws a lane per slot (cached last), a bar per attempt labelled where it fits, and cache marks", () => {
    const svg = tracePicture(trace, { width: 600 })
    expect(svg.startsWith("<svg ")).toBe(true)
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true)
    const lanes = [...svg.matchAll(/<text x="8" y="\d+" fill="#444">([^<]+)<\/text>/g)].map((m) => m[1])
    expect(lanes).toEqual(["slot 1", "slot 2", "cached"])
    expect(svg.match(/<rect x="[\d.]+" y="\d+" width="[\d.]+" height="18"/g)).toHaveLength(3)
    expect(svg).toContain(">build</text>")
    expect(svg).toMatch(/>a-very-[a-z-]+…<\/text>/)
    expect(svg).not.toContain(">a-very-long-step-name-that-cannot-fit<")
    // x: 0.1 ms of 60 ms, far too narrow for a label.
    expect(svg).not.toContain(">x</text>")
    expect(svg).toContain('stroke="#c62828"')
    expect(svg).toContain("<title>lint (cached)</title>")
    expect(svg).toContain("weft: w r1")
  })
})
