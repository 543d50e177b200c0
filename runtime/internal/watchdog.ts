/**
 * Outlives weft to clean up after it. weft tears down every process group it
 * started on failure, timeout, Ctrl-C and exit; but a weft killed outright
 * (SIGKILL, the OOM killer, a crashed terminal) runs no code, and its
 * commands' groups would run on as orphans. So the first command weft starts
 * also starts this watchdog: a tiny `/bin/sh` loop in its own process group
 * that reads, over a pipe, the groups weft starts (`+pid`) and reaps
 * (`-pid`). When the pipe closes — weft is gone, however it went — it sends
 * SIGTERM to the groups still listed, waits 2 s, then SIGKILL, and exits. On
 * a normal exit nothing is listed and it exits at once.
 *
 * A group is listed only while weft knows it is running, so the watchdog
 * never signals a process group id that has since been reused. It costs one
 * `sh` process (about a megabyte) per weft process that runs commands, and a
 * short pipe write per command.
 */
import { spawn, type ChildProcess } from "node:child_process"

/** The watchdog's program (POSIX sh: dash on Debian). It ignores the signals a terminal sends weft's group; weft's death is the pipe's end. */
const script = `trap '' INT HUP TERM
pids=" "
while IFS= read -r line; do
  case $line in
    +*) pids="$pids\${line#+} " ;;
    -*) p=\${line#-}; case $pids in *" $p "*) pids="\${pids%% $p *} \${pids#* $p }" ;; esac ;;
  esac
done
[ "$pids" = " " ] && exit 0
for p in $pids; do kill -s TERM -- "-$p" 2>/dev/null; done
sleep 2
for p in $pids; do kill -s KILL -- "-$p" 2>/dev/null; done`

let dog: ChildProcess | undefined
let failed = false

const send = (line: string): void => {
  if (failed) return
  if (dog === undefined) {
    dog = spawn("/bin/sh", ["-c", script], { stdio: ["pipe", "ignore", "ignore"], detached: true })
    // It must never keep weft alive, nor fail it: without /bin/sh weft still runs, only without this net.
    dog.unref()
    ;(dog.stdin as unknown as { unref?: () => void } | null)?.unref?.()
    dog.on("error", () => (failed = true))
    dog.stdin?.on("error", () => (failed = true))
  }
  dog.stdin?.write(line)
}

/** Lists a process group weft started: if weft dies before `released`, the watchdog ends it. */
export const guard = (pid: number): void => send(`+${pid}\n`)

/** The group's leader has closed: weft will not signal it again, nor may the watchdog. */
export const release = (pid: number): void => send(`-${pid}\n`)

/** The watchdog's pid, for tests; `undefined` until a command has run. */
export const watchdogPid = (): number | undefined => dog?.pid
