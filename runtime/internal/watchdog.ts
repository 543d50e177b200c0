/**
 * Outlives weft to clean up after it. weft tears down every process group it
 * started on failure, timeout, Ctrl-C and exit; but a weft killed outright
 * (SIGKILL, the OOM killer, a crashed terminal) runs no code, and its
 * commands' groups would run on as orphans. So the first command weft starts
 * also starts this watchdog: a tiny `/bin/sh` loop in its own process group
 * that reads, over a pipe, the groups weft starts (`+pid/treeId`) and reaps
 * (`-pid/treeId`). When the pipe closes — weft is gone, however it went — it
 * sends SIGTERM to the groups still listed and to what left them (found in
 * `/proc` as `processTree.ts` finds it), waits 2 s, then SIGKILL, and exits.
 * On a normal exit nothing is listed and it exits at once.
 *
 * A group is listed only while weft knows it is running, so the watchdog
 * never signals a process group id that has since been reused. It costs one
 * `sh` process (about a megabyte) per weft process that runs commands, and a
 * short pipe write per command.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { treeVariable } from "./processTree.ts"

/**
 * The watchdog's program (POSIX sh: dash on Debian; only builtins but
 * `sleep` and `grep`). It ignores the signals a terminal sends weft's group;
 * weft's death is the pipe's end. Its list holds `leader/treeId` entries.
 *
 * `sweep` finds what to end as `processTree.ts` does: the listed groups'
 * members, the processes whose environment carries a listed tree id, every
 * descendant of those by parent pid, and (the second time) what the first
 * found, if its start time says it is the same process. It leaves them in
 * `previous` as `pid:start` entries.
 */
export const watchdogScript = `trap '' INT HUP TERM
list=" "
while IFS= read -r line; do
  case $line in
    +*) list="$list\${line#+} " ;;
    -*) e=\${line#-}; case $list in *" $e "*) list="\${list%% $e *} \${list#* $e }" ;; esac ;;
  esac
done
[ "$list" = " " ] && exit 0
leaders=" "; set --
for e in $list; do
  leaders="$leaders\${e%%/*} "
  [ -n "\${e#*/}" ] && set -- "$@" -e "${treeVariable}=\${e#*/}"
done
ids="$*"
sweep() {
  table=""
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}
    [ "$p" = "$$" ] && continue
    s=""
    { read -r s < "$d/stat"; } 2>/dev/null
    [ -n "$s" ] || continue
    set -- \${s##*) }
    [ "$1" = Z ] && continue
    table="$table$p $2 $3 \${20}
"
  done
  found=" "
  while read -r p pp pg st; do
    [ -n "$p" ] || continue
    case $leaders in *" $pg "*) found="$found$p " ;; esac
    case $previous in *" $p:$st "*) found="$found$p " ;; esac
  done <<TABLE
$table
TABLE
  if [ -n "$ids" ]; then
    for f in $(eval "grep -lsxzF $ids /proc/[0-9]*/environ" 2>/dev/null); do
      f=\${f#/proc/}; found="$found\${f%/environ} "
    done
  fi
  more=1
  while [ $more = 1 ]; do
    more=0
    while read -r p pp pg st; do
      [ -n "$p" ] || continue
      case $found in *" $p "*) continue ;; esac
      case $found in *" $pp "*) found="$found$p "; more=1 ;; esac
    done <<TABLE
$table
TABLE
  done
  previous=" "
  while read -r p pp pg st; do
    [ -n "$p" ] || continue
    case $found in *" $p "*) previous="$previous$p:$st " ;; esac
  done <<TABLE
$table
TABLE
}
previous=" "
sweep
for p in $leaders; do kill -s TERM -- "-$p" 2>/dev/null; done
for e in $previous; do kill -s TERM "\${e%%:*}" 2>/dev/null; done
sleep 2
sweep
for p in $leaders; do kill -s KILL -- "-$p" 2>/dev/null; done
for e in $previous; do kill -s KILL "\${e%%:*}" 2>/dev/null; done`

let dog: ChildProcess | undefined
let failed = false

const send = (line: string): void => {
  if (failed) return
  if (dog === undefined) {
    dog = spawn("/bin/sh", ["-c", watchdogScript], { stdio: ["pipe", "ignore", "ignore"], detached: true })
    // It must never keep weft alive, nor fail it: without /bin/sh weft still runs, only without this net.
    dog.unref()
    ;(dog.stdin as unknown as { unref?: () => void } | null)?.unref?.()
    dog.on("error", () => (failed = true))
    dog.stdin?.on("error", () => (failed = true))
  }
  dog.stdin?.write(line)
}

/** The entry each guarded group has in the watchdog's list, by leader. */
const entries = new Map<number, string>()

/**
 * Lists a process group weft started, and the tree id in its environment
 * (`processTree.ts`) when it has one: if weft dies before `released`, the
 * watchdog ends the group and what left it.
 */
export const guard = (pid: number, treeId?: string): void => {
  const entry = `${pid}/${treeId ?? ""}`
  entries.set(pid, entry)
  send(`+${entry}\n`)
}

/** The group's leader has closed: weft will not signal it again, nor may the watchdog. */
export const release = (pid: number): void => {
  const entry = entries.get(pid)
  if (entry === undefined) return
  entries.delete(pid)
  send(`-${entry}\n`)
}

/** The watchdog's pid, for tests; `undefined` until a command has run. */
export const watchdogPid = (): number | undefined => dog?.pid
