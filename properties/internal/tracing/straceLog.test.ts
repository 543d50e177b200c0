import { describe, expect, it } from "vitest"
import { parseStraceLog } from "./straceLog.ts"

// Lines as strace 6.1 writes them with -f -qq -y -z (some from older, unfinished/resumed style).
const log = String.raw`
100  execve("/bin/sh", ["/bin/sh", "-c", "..."], 0x7ffd /* 39 vars */) = 0
100  openat(AT_FDCWD</w>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>
100  openat(AT_FDCWD</w>, "l,o g.txt", O_WRONLY|O_CREAT|O_APPEND, 0666) = 3</w/l,o g.txt>
100  openat(AT_FDCWD</w>, "src", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3</w/src>
100  vfork()                           = 101
101  execve("./build.sh", ["./build.sh"], 0x5561 /* 39 vars */) = 0
101  mkdir("d", 0777)                  = 0
101  rename("a.tmp", "a.txt")          = 0
100  chdir("/w/d")                     = 0
100  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x7f1f) = 102
102  unlink("old.txt")                 = 0
102  renameat2(AT_FDCWD</w/d>, "y", AT_FDCWD</w>, "z", RENAME_NOREPLACE) = 0
102  unlinkat(AT_FDCWD</w/d>, "gone", AT_REMOVEDIR) = 0
102  symlinkat("../log.txt", AT_FDCWD</w/d>, "lk") = 0
100  openat(AT_FDCWD</w/d>, "\303\251>x", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</w/d/\303\251\76x>
100  openat(AT_FDCWD</w/d>, "in.txt", O_RDONLY <unfinished ...>
103  openat(AT_FDCWD</w>, "x", O_RDONLY) = 3</w/x>
100  <... openat resumed>) = 4</w/d/in.txt>
`

describe("parseStraceLog", () => {
  it("reads opens, execs, renames, links and removals, each at its process's folder; skips directories", () => {
    expect(parseStraceLog(log, "/w")).toEqual([
      { access: "read", path: "/bin/sh" },
      { access: "read", path: "/etc/ld.so.cache" },
      { access: "write", path: "/w/l,o g.txt" },
      // The child starts where its parent was: /w, not /w/d.
      { access: "read", path: "/w/build.sh" },
      { access: "remove", path: "/w/a.tmp" },
      { access: "write", path: "/w/a.txt" },
      // Forked after the chdir: in /w/d.
      { access: "remove", path: "/w/d/old.txt" },
      { access: "remove", path: "/w/d/y" },
      { access: "write", path: "/w/z" },
      { access: "write", path: "/w/d/lk" },
      { access: "write", path: "/w/d/é>x" },
      { access: "read", path: "/w/x" },
      { access: "read", path: "/w/d/in.txt" }
    ])
  })

  it("skips calls that failed and lines that are not calls", () => {
    const text = [
      `100  openat(AT_FDCWD</w>, "missing", O_RDONLY) = -1 ENOENT (No such file or directory)`,
      `100  +++ exited with 0 +++`,
      `100  --- SIGCHLD {si_signo=SIGCHLD} ---`,
      `100  exit_group(0)                     = ?`
    ].join("\n")
    expect(parseStraceLog(text, "/w")).toEqual([])
  })
})
