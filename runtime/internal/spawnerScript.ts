/**
 * The spawner's program (Perl 5, core modules only: `perl-base` on Debian).
 * Why Perl and not `/bin/sh`: a shell's `wait` folds "killed by SIGINT" and
 * "exited with 130" into one status, a non-interactive shell starts every
 * background job with SIGINT and SIGQUIT ignored (and a job cannot undo it),
 * and it needs every argument quoted. Perl's `waitpid` gives the exact
 * status, `exec { $program } @argv` takes argv as a list (no shell, no
 * quoting), and its fork is cheap (a 7 MB process).
 *
 * Protocol, on its stdin (bytes):
 * - `m <n>\n`: make `n` more output slots: FIFO pairs `<dir>/<k>o`, `<dir>/<k>e`.
 * - `j <length>\n<record>`: start a job. The record is NUL-separated:
 *   id, cwd, slot, tree id, argc, argv…, then the whole environment as `NAME=value`.
 * - `r <id>\n`: weft has seen the job close; it is no longer the spawner's to end.
 *
 * and on its stdout, one line each:
 * - `m <slots>`: the slots now made;
 * - `s <id> <pid>`: forked (pid = its process group = its session);
 * - `x <id> <what> <errno>`: could not start (`cwd`, `exec`, `open`, `fork`);
 *   may come before `s`, always before `e`;
 * - `e <id> <code> -` or `e <id> - <signal number>`: reaped, exactly.
 *
 * The job's output goes to its slot's FIFOs, opened for writing here before
 * the fork, so a writer exists before weft hears `s` (a FIFO without one
 * reads as end of file); weft opened them for reading before sending `j`,
 * so these opens never block.
 *
 * It is also the watchdog of its jobs (`watchdog.ts`), so weft writes no
 * line per job to the watchdog: a job is listed from its fork (before weft
 * even knows its pid) until weft releases it. On stdin's end (weft is gone,
 * however it went) it removes its folder and, if any job is still listed,
 * hands the list to the watchdog's program, which ends those trees.
 */
export const spawnerScript = String.raw`use strict; use warnings; use POSIX ();
my $dir = shift @ARGV;
open(my $ctl, '>&', \*STDOUT) or die "dup: $!"; select((select($ctl), $| = 1)[0]);
binmode STDIN; binmode $ctl;
$SIG{PIPE} = 'IGNORE';
my $chld = 0;
$SIG{CHLD} = sub { $chld = 1 };
my ($slots, %job, %listed, $buf) = (0);
$buf = '';
sub grow { my $n = shift; for (1 .. $n) { my $k = $slots++; for my $s ('o', 'e') { POSIX::mkfifo("$dir/$k$s", 0600) or die "mkfifo $dir/$k$s: $!" } } print $ctl "m $slots\n" }
sub reap {
  $chld = 0;
  while ((my $p = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $id = delete $job{$p}; next unless defined $id; my $s = $?;
    print $ctl (($s & 127) ? "e $id - " . ($s & 127) : "e $id " . ($s >> 8) . " -") . "\n";
  }
}
sub start {
  my ($id, $cwd, $slot, $tree, $argc, @rest) = split /\0/, $_[0], -1;
  my @argv = splice @rest, 0, $argc;
  my ($wo, $we);
  unless (open($wo, '>', "$dir/" . $slot . 'o') and open($we, '>', "$dir/" . $slot . 'e')) { print $ctl "x $id open " . ($! + 0) . "\n"; return }
  my $pid = fork;
  if (!defined $pid) { print $ctl "x $id fork " . ($! + 0) . "\n"; return }
  if ($pid == 0) {
    $SIG{PIPE} = 'DEFAULT'; $SIG{CHLD} = 'DEFAULT';
    POSIX::setsid();
    open(STDIN, '<', '/dev/null');
    POSIX::dup2(fileno $wo, 1); POSIX::dup2(fileno $we, 2);
    %ENV = map { split /=/, $_, 2 } @rest;
    chdir $cwd or do { print $ctl "x $id cwd " . ($! + 0) . "\n"; POSIX::_exit(127) };
    { no warnings; exec { $argv[0] } @argv; }
    print $ctl "x $id exec " . ($! + 0) . "\n"; POSIX::_exit(127);
  }
  $job{$pid} = $id;
  $listed{$id} = "$pid/$tree";
  print $ctl "s $id $pid\n";
}
grow(shift @ARGV);
while (1) {
  reap();
  my $rin = ''; vec($rin, 0, 1) = 1;
  # A SIGCHLD interrupts select, or is seen in $chld if it came before; the
  # timeout covers one landing in the instant between the two.
  my $n = select($rin, undef, undef, $chld ? 0 : %job ? 0.05 : undef);
  next if $n <= 0;
  my $r = sysread(STDIN, $buf, 65536, length $buf);
  if (!defined $r) { next if $! == POSIX::EINTR(); last }
  last if $r == 0;
  while ($buf =~ /\A([mjr]) (\d+)\n/) {
    my ($op, $len) = ($1, $2); my $head = length($op) + length($len) + 2;
    if ($op eq 'm') { substr($buf, 0, $head, ''); grow($len); next }
    if ($op eq 'r') { substr($buf, 0, $head, ''); delete $listed{$len}; next }
    last if length($buf) < $head + $len;
    my $record = substr($buf, $head, $len); substr($buf, 0, $head + $len, '');
    start($record);
  }
}
if (opendir(my $d, $dir)) { unlink map { "$dir/$_" } grep { !/^\.\.?$/ } readdir $d; closedir $d }
rmdir $dir;
exit 0 unless %listed;
# Its arguments: the folder, the first slots, the watchdog's program.
open(my $dog, '|-', '/bin/sh', '-c', $ARGV[0]) or exit 1;
select((select($dog), $| = 1)[0]);
print $dog "+$_\n" for values %listed;
# Without waiting for it (close would): like weft's own watchdog, it outlives us to do its work.
POSIX::_exit(0);
`
