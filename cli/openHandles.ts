/**
 * What a run left keeping Node's event loop alive: a step's forgotten timer,
 * socket or server. The CLI exits when the run has ended anyway (a timer
 * must not hold the command for minutes after it printed success), and says
 * what it found, so that the step's author can clean up.
 */

/** Open resources, by Node's type name (`process.getActiveResourcesInfo()`). */
export type OpenResources = ReadonlyArray<string>

/**
 * Requests (a pending file read, a DNS lookup) end by themselves and are
 * weft's own as often as a step's: only handles count (timers, sockets,
 * servers, child processes, watchers). Not the terminal's and pipes' either:
 * weft's own stdio shows as those (once per write still queued, and the
 * dashboard opens more), and a child process a step left shows as a
 * process of its own.
 */
const isStepHandle = (type: string): boolean => !/Req/.test(type) && type !== "TTYWrap" && type !== "PipeWrap"

const names: Readonly<Record<string, readonly [string, string]>> = {
  Timeout: ["timer", "timers"],
  Immediate: ["immediate", "immediates"],
  TCPSocketWrap: ["socket", "sockets"],
  TCPWrap: ["socket", "sockets"],
  TCPServerWrap: ["server", "servers"],
  PipeServerWrap: ["server", "servers"],
  UDPWrap: ["UDP socket", "UDP sockets"],
  ProcessWrap: ["child process", "child processes"],
  FSEventWrap: ["file watcher", "file watchers"],
  StatWatcher: ["file watcher", "file watchers"],
  SignalWrap: ["signal listener", "signal listeners"],
  MessagePort: ["message port", "message ports"],
  Worker: ["worker", "workers"]
}

const counts = (resources: OpenResources): Map<string, number> => {
  const byType = new Map<string, number>()
  for (const type of resources) if (isStepHandle(type)) byType.set(type, (byType.get(type) ?? 0) + 1)
  return byType
}

/**
 * The handles open in `after` beyond those in `before`, counted by kind in
 * words (`timer`, `socket`), in the order first seen.
 *
 * @example
 * openedSince(["PipeWrap"], ["PipeWrap", "Timeout"]) // Map { "Timeout" => 1 }
 */
export const openedSince = (before: OpenResources, after: OpenResources): Map<string, number> => {
  const had = counts(before)
  const opened = new Map<string, number>()
  for (const [type, n] of counts(after)) {
    const more = n - (had.get(type) ?? 0)
    if (more > 0) opened.set(type, more)
  }
  return opened
}

/**
 * What is still open, beyond `before`, once what closes by itself has had
 * `settleMs` to do so (the dashboard's last render timers, say: they are
 * gone within a few milliseconds of its unmount). Costs nothing when nothing
 * was left.
 */
export const leftOpen = async (before: OpenResources, now: () => OpenResources, settleMs = 100): Promise<Map<string, number>> => {
  const deadline = performance.now() + settleMs
  for (;;) {
    const opened = openedSince(before, now())
    if (opened.size === 0 || performance.now() >= deadline) return opened
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * One line for the user about what `openedSince` found, or `undefined` when
 * nothing: "1 timer that a step started was still open when the run ended;
 * exiting anyway".
 */
export const describeOpened = (opened: ReadonlyMap<string, number>): string | undefined => {
  if (opened.size === 0) return undefined
  // Kinds by their word: a TCPWrap and a TCPSocketWrap are both sockets.
  const byName = new Map<string, { readonly many: string; n: number }>()
  let total = 0
  for (const [type, n] of opened) {
    const [one, many] = names[type] ?? [`${type} handle`, `${type} handles`]
    const kind = byName.get(one)
    if (kind === undefined) byName.set(one, { many, n })
    else kind.n += n
    total += n
  }
  const parts = [...byName].map(([one, { many, n }]) => `${n} ${n === 1 ? one : many}`)
  const list = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)!}`
  return `${list} that ${total === 1 ? "a step" : "steps"} started ${total === 1 ? "was" : "were"} still open when the run ended; exiting anyway`
}
