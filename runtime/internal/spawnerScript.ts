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
 *   id, cwd, slot, argc, argv…, then the whole environment as `NAME=value`.
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
 * On stdin's end (weft is gone, however it went) it sends SIGTERM to the
 * groups of the jobs it has not reaped (the watchdog, which weft told about
 * them, follows with SIGKILL), removes its folder and exits.
 */
export const spawnerScript = String.raw`use strict; use warnings; use POSIX ();
my $dir = shift @ARGV;
open(my $ctl, '>&', \*STDOUT) or die "dup: $!"; select((select($ctl), $| = 1)[0]);
binmode STDIN; binmode $ctl;
$SIG{PIPE} = 'IGNORE';
$SIG{CHLD} = sub {};
my ($slots, %job, $buf) = (0);
$buf = '';
sub grow { my $n = shift; for (1 .. $n) { my $k = $slots++; for my $s ('o', 'e') { POSIX::mkfifo("$dir/$k$s", 0600) or die "mkfifo $dir/$k$s: $!" } } print $ctl "m $slots\n" }
sub reap {
  while ((my $p = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $id = delete $job{$p}; next unless defined $id; my $s = $?;
    print $ctl (($s & 127) ? "e $id - " . ($s & 127) : "e $id " . ($s >> 8) . " -") . "\n";
  }
}
sub start {
  my ($id, $cwd, $slot, $argc, @rest) = split /\0/, $_[0], -1;
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
  print $ctl "s $id $pid\n";
}
grow(shift @ARGV);
while (1) {
  reap();
  my $rin = ''; vec($rin, 0, 1) = 1;
  # A SIGCHLD interrupts select; the timeout covers one landing just before it.
  my $n = select($rin, undef, undef, %job ? 0.05 : undef);
  next if $n <= 0;
  my $r = sysread(STDIN, $buf, 65536, length $buf);
  if (!defined $r) { next if $! == POSIX::EINTR(); last }
  last if $r == 0;
  while ($buf =~ /\A([mj]) (\d+)\n/) {
    my ($op, $len) = ($1, $2); my $head = length($op) + length($len) + 2;
    if ($op eq 'm') { substr($buf, 0, $head, ''); grow($len); next }
    last if length($buf) < $head + $len;
    my $record = substr($buf, $head, $len); substr($buf, 0, $head + $len, '');
    start($record);
  }
}
kill 'TERM', map { -$_ } keys %job;
if (opendir(my $d, $dir)) { unlink map { "$dir/$_" } grep { !/^\.\.?$/ } readdir $d; closedir $d }
rmdir $dir;
`
