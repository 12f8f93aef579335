/* dk_proc.h - processes and ports for dfukit's end-to-end tests: run a tool
 * with stdout/stderr to files, reap it with a deadline that kills, start
 * dfusim and take its pty path from the first line it prints, open ptys raw,
 * and send/receive SLIP frames built with lib/.
 *
 *   dfusim stdout, line 1:  PTY-PATH \n   (then whatever it prints)
 *   frame on the port:      slip(payload) C0   (dfukit/slip.h)
 *
 * Built as the static library dk_testsupport (CMocka + dfukit).  Failures
 * are CMocka assertions, so only CMocka tests link it.
 */
#ifndef DFUKIT_DK_PROC_H
#define DFUKIT_DK_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>

/* CLOCK_MONOTONIC in ms; sleep ms. */
int64_t dk_test_now_ms(void);
void dk_test_sleep_ms(int ms);

/* A whole text file, malloc'd and NUL-terminated; "" (malloc'd) when it
 * cannot be read.  Never NULL. */
char *dk_test_slurp(const char *path);

/* How many times needle occurs in text (non-overlapping). */
int dk_test_count(const char *text, const char *needle);

/* ---- processes ---- */

/* fork + execv(argv[0]): stdin /dev/null, stdout to out, stderr to err
 * (created or truncated).  The child exits 126 when a file will not open,
 * 127 when exec fails.  Asserts the fork worked. */
pid_t dk_test_spawn(const char *const argv[], const char *out, const char *err);

/* Wait up to ms: the exit status (128 + signal when killed by one), or -1
 * after killing it with SIGKILL at the deadline. */
int dk_test_reap(pid_t pid, int ms);

/* CPU time a live process has used so far, in clock ticks
 * (sysconf(_SC_CLK_TCK) a second): utime + stime of /proc/PID/stat. */
long dk_test_cpu_ticks(pid_t pid);

/* dk_test_spawn then dk_test_reap. */
int dk_test_run(const char *const argv[], const char *out, const char *err, int ms);

/* ---- dfusim ---- */

typedef struct {
    pid_t pid;
    char pty[256];              /* first stdout line */
    char out[1024], err[1024];  /* its stdout / stderr files */
} dk_test_sim;

/* Start dfusim (path) with extra args (NULL-terminated, may be NULL; NULL
 * inside ends them early), stdout/stderr into dir/simN.out|err; wait up to 5 s
 * for the pty line.  Fails the test when dfusim exits first or says nothing.
 * The pid is remembered until dk_test_sim_stop/kill (see kill_all). */
void dk_test_sim_start(dk_test_sim *s, const char *dfusim, const char *dir,
                       const char *const extra[]);

/* SIGTERM; fails the test unless it exits 0 within 5 s (its stderr shown). */
void dk_test_sim_stop(dk_test_sim *s);

/* SIGKILL and reap (a crash in the middle). */
void dk_test_sim_kill(dk_test_sim *s);

/* SIGKILL every sim still running (a teardown after a failed assertion
 * skipped dk_test_sim_stop). */
void dk_test_sim_kill_all(void);

/* ---- ptys and SLIP ---- */

/* tcgetattr, cfmakeraw, speed (0: left as it is), tcsetattr now; asserted. */
void dk_test_raw_fd(int fd, speed_t speed);

/* A pty pair standing in for a serial line: the master (returned; raw,
 * non-blocking, close-on-exec) is the far end, the slave's path goes to
 * slave.  speed as for dk_test_raw_fd. */
int dk_test_pty_pair(char *slave, size_t cap, speed_t speed);

/* Open a port path read/write, no controlling tty, raw at speed (the host
 * end); fails the test when it will not open. */
int dk_test_port_open(const char *path, speed_t speed);

/* Write all n bytes (blocking fd). */
void dk_test_send_raw(int fd, const void *p, size_t n);

/* One SLIP frame of payload req[0, n). */
void dk_test_send_frame(int fd, const uint8_t *req, size_t n);

/* The next whole frame within ms: its decoded length (first cap bytes into
 * out), or -1 on timeout or a failed read.  Reads a byte at a time, so
 * nothing of a later frame is consumed; frames up to 512 bytes. */
int dk_test_recv_frame(int fd, uint8_t *out, size_t cap, int ms);

#endif
