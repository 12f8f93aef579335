/* e2e_sim.c - dfusim end to end: the real executable on a pty, driven like a
 * host does it (termios, SLIP frames built and parsed with lib/), one
 * scenario per run (argv[1]; CTest registers each).  Sections are those of
 * protocol.md.  Paths come from the build: DFUSIM, MKPKG.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dfukit/capfile.h"
#include "dfukit/crc.h"
#include "dfukit/pkg.h"
#include "dfukit/rd.h"
#include "dfukit/slip.h"
#include "dk_proc.h"
#include "dk_suite.h"
#include "dk_test.h"

static char dir[512];
static char pbuf[8][1024];

static const char *P(int slot, const char *name)
{
    return dk_test_path(pbuf[slot], sizeof pbuf[slot], dir, name);
}

/* ---- processes -------------------------------------------------------- */

static void sim_start(dk_test_sim *s, const char *const extra[])
{
    dk_test_sim_start(s, DFUSIM, dir, extra);
}

/* Run dfusim with extra args to completion; stderr text in *err_text. */
static int sim_run(const char *const extra[], char **err_text, char **out_text)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = DFUSIM;
    for (size_t i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    int rc = dk_test_run(argv, P(6, "run.out"), P(7, "run.err"), 10000);
    if (err_text)
        *err_text = dk_test_slurp(P(7, "run.err"));
    if (out_text)
        *out_text = dk_test_slurp(P(6, "run.out"));
    return rc;
}

static char *sim_log(const dk_test_sim *s)
{
    return dk_test_slurp(s->err);
}

static void expect_log(const dk_test_sim *s, const char *needle)
{
    char *t = sim_log(s);
    if (!strstr(t, needle))
        fail_msg("dfusim's log lacks '%s':\n%s", needle, t);
    free(t);
}

/* ---- the host side of the port ---------------------------------------- */

static int port_open(const char *pty)
{
    return dk_test_port_open(pty, B115200);
}

/* Send a request, expect exactly want back within 2 s. */
static void expect_answer(int fd, const uint8_t *req, size_t n, const uint8_t *want, size_t wn)
{
    dk_test_send_frame(fd, req, n);
    uint8_t got[512];
    int len = dk_test_recv_frame(fd, got, sizeof got, 2000);
    if (len < 0)
        fail_msg("no answer to request 0x%02X", req[0]);
    if ((size_t)len != wn || memcmp(got, want, wn) != 0) {
        char hex[1200] = "";
        for (int i = 0; i < len && i < 64; i++)
            snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02x ", got[i]);
        fail_msg("request 0x%02X: unexpected answer (%d bytes) %s", req[0], len, hex);
    }
}

static bool ping_answered(int fd, uint8_t id, int ms)
{
    uint8_t req[] = { 0x09, id }, got[64];
    dk_test_send_frame(fd, req, sizeof req);
    int len = dk_test_recv_frame(fd, got, sizeof got, ms);
    if (len < 0)
        return false;
    if (len != 4 || got[0] != 0x60 || got[1] != 0x09 || got[2] != 0x01 || got[3] != id)
        fail_msg("PING %u: bad answer (%d bytes, %02x %02x %02x %02x)", id, len, got[0], got[1],
                 got[2], got[3]);
    return true;
}

static void ping(int fd, uint8_t id)
{
    if (!ping_answered(fd, id, 2000))
        fail_msg("no answer to PING %u", id);
}

/* Nothing arrives for ms. */
static void expect_silence(int fd, int ms)
{
    uint8_t got[64];
    int len = dk_test_recv_frame(fd, got, sizeof got, ms);
    if (len >= 0)
        fail_msg("unexpected frame of %d bytes (%02x %02x %02x)", len, got[0], got[1], got[2]);
}

/* ---- DFU building blocks (§2.2, §5.2) ----------------------------------- */

static dk_pkg pkg;

static void make_pkg(const char *size)
{
    const char *argv[] = { MKPKG, "--app", size, "--sd-req", "0", P(0, "app.zip"), NULL };
    assert_int_equal(dk_test_run(argv, P(6, "mkpkg.out"), P(7, "mkpkg.err"), 10000), 0);
    dk_err err;
    if (dk_pkg_open(P(0, "app.zip"), &pkg, &err) != DK_OK)
        fail_msg("package: %s", err.msg);
    assert_int_equal(pkg.n, 1);
}

static void rsp_ok(int fd, uint8_t op)
{
    uint8_t got[64];
    int len = dk_test_recv_frame(fd, got, sizeof got, 2000);
    if (len < 3 || got[0] != 0x60 || got[1] != op || got[2] != 0x01)
        fail_msg("op 0x%02X: no success (len %d, result 0x%02X)", op, len, len >= 3 ? got[2] : 0);
}

static void create(int fd, uint8_t type, uint32_t size)
{
    uint8_t req[6] = { 0x01, type };
    dk_put_le32(req + 2, size);
    dk_test_send_frame(fd, req, sizeof req);
    rsp_ok(fd, 0x01);
}

static void write_data(int fd, const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += 64) {
        uint8_t req[65] = { 0x08 };
        size_t k = n - off < 64 ? n - off : 64;
        memcpy(req + 1, p + off, k);
        dk_test_send_frame(fd, req, k + 1);
    }
}

/* CRC_GET: offset and CRC as the target reports them. */
static void crc_get(int fd, uint32_t *off, uint32_t *crc)
{
    uint8_t req[] = { 0x03 }, got[64];
    dk_test_send_frame(fd, req, 1);
    int len = dk_test_recv_frame(fd, got, sizeof got, 2000);
    assert_int_equal(len, 11);
    dk_rd r = dk_rd_make(got + 3, 8);
    *off = dk_rd_le32(&r);
    *crc = dk_rd_le32(&r);
}

static void execute(int fd)
{
    uint8_t req[] = { 0x04 };
    dk_test_send_frame(fd, req, 1);
    rsp_ok(fd, 0x04);
}

/* SELECT type: (max_size, offset, crc) in wire order (§2.2). */
static void select_obj(int fd, uint8_t type, uint32_t *off, uint32_t *crc)
{
    uint8_t req[] = { 0x06, type }, got[64];
    dk_test_send_frame(fd, req, 2);
    int len = dk_test_recv_frame(fd, got, sizeof got, 2000);
    assert_int_equal(len, 15);
    dk_rd r = dk_rd_make(got + 3, 12);
    (void)dk_rd_le32(&r);
    *off = dk_rd_le32(&r);
    *crc = dk_rd_le32(&r);
}

static void send_init(int fd)
{
    const dk_image *img = &pkg.img[0];
    create(fd, 0x01, (uint32_t)img->dat_len);
    write_data(fd, img->dat, img->dat_len);
    uint32_t off, crc;
    crc_get(fd, &off, &crc);
    assert_int_equal(off, img->dat_len);
    assert_int_equal(crc, dk_crc32(0, img->dat, img->dat_len));
    execute(fd);
}

/* Data objects [from, to) of 4096 bytes, each executed. */
static void send_objects(int fd, int from, int to)
{
    const dk_image *img = &pkg.img[0];
    for (int k = from; k < to; k++) {
        size_t off = (size_t)k * 4096, n = img->bin_len - off < 4096 ? img->bin_len - off : 4096;
        create(fd, 0x02, (uint32_t)n);
        write_data(fd, img->bin + off, n);
        uint32_t o, c;
        crc_get(fd, &o, &c);
        assert_int_equal(o, off + n);
        assert_int_equal(c, dk_crc32(0, img->bin, off + n));
        execute(fd);
    }
}

/* ---- scenarios ------------------------------------------------------------ */

/* First line = pty, mode 0600, answers per §2.2; SIGTERM exits 0. */
static void basics(void **state)
{
    (void)state;
    dk_test_sim s;
    sim_start(&s, NULL);
    struct stat st;
    assert_int_equal(stat(s.pty, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    int fd = port_open(s.pty);
    ping(fd, 1);
    ping(fd, 0xC0); /* an id that needs escaping */
    const uint8_t pv[] = { 0x00 }, pv_r[] = { 0x60, 0x00, 0x01, 0x01 };
    expect_answer(fd, pv, 1, pv_r, 4);
    const uint8_t mtu[] = { 0x07 }, mtu_r[] = { 0x60, 0x07, 0x01, 131, 0 };
    expect_answer(fd, mtu, 1, mtu_r, 5);
    const uint8_t sel[] = { 0x06, 0x01 },
                  sel_r[] = { 0x60, 0x06, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    expect_answer(fd, sel, 2, sel_r, sizeof sel_r);
    const uint8_t unk[] = { 0x05 }, unk_r[] = { 0x60, 0x05, 0x02 }; /* §2.2: 0x05 undefined */
    expect_answer(fd, unk, 1, unk_r, 3);
    const uint8_t unk2[] = { 0x42, 1, 2 }, unk2_r[] = { 0x60, 0x42, 0x02 };
    expect_answer(fd, unk2, 3, unk2_r, 3);
    /* ABORT: no answer, the chip resets (§2.2, §6.8) */
    const uint8_t ab[] = { 0x0C };
    dk_test_send_frame(fd, ab, 1);
    expect_silence(fd, 200);
    ping(fd, 2);
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "boot 2");
}

/* --mtu 2051 (USB CDC): MTU_GET says so and the frame limit follows (§4). */
static void mtu(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *a[] = { "--mtu", "2051", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    const uint8_t m[] = { 0x07 }, m_r[] = { 0x60, 0x07, 0x01, 0x03, 0x08 };
    expect_answer(fd, m, 1, m_r, 5);
    uint8_t big[1500] = { 0x09, 0x33 }; /* overlong PING: still one frame */
    const uint8_t big_r[] = { 0x60, 0x09, 0x01, 0x33 };
    expect_answer(fd, big, sizeof big, big_r, 4);
    close(fd);
    dk_test_sim_stop(&s);

    sim_start(&s, NULL); /* the UART default: 129 decoded bytes fit (§1.3) */
    fd = port_open(s.pty);
    uint8_t b129[129] = { 0x09, 0x34 }, b130[130] = { 0x09, 0x35 };
    const uint8_t r129[] = { 0x60, 0x09, 0x01, 0x34 };
    expect_answer(fd, b129, sizeof b129, r129, 4);
    dk_test_send_frame(fd, b130, sizeof b130);
    expect_silence(fd, 200);
    ping(fd, 3);
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "longer than 129 bytes");
}

/* The host opens and closes the port many times (nrfutil reopens it per
 * image, §5.2) and changes line settings; nothing stale is delivered. */
static void reopen(void **state)
{
    (void)state;
    dk_test_sim s;
    sim_start(&s, NULL);
    static const speed_t speeds[] = { B115200, B9600, B1000000, B57600 };
    for (int i = 0; i < 24; i++) {
        int fd = dk_test_port_open(s.pty, speeds[i % 4]);
        if (i % 3 == 0) {
            close(fd); /* open and close without a word */
            continue;
        }
        if (i % 4 == 2) { /* 7E2 and back to raw 8N1 while open */
            struct termios t;
            tcgetattr(fd, &t);
            t.c_cflag = (t.c_cflag & ~(tcflag_t)CSIZE) | CS7 | PARENB | CSTOPB;
            tcsetattr(fd, TCSANOW, &t);
            cfmakeraw(&t);
            tcsetattr(fd, TCSADRAIN, &t);
        }
        ping(fd, (uint8_t)i);
        close(fd);
    }
    /* a request whose answer nobody reads: not delivered to the next opener */
    int fd = port_open(s.pty);
    uint8_t req[] = { 0x09, 0x77 };
    dk_test_send_frame(fd, req, 2);
    close(fd);
    dk_test_sleep_ms(100);
    fd = port_open(s.pty);
    ping(fd, 0x78);
    close(fd);
    dk_test_sim_stop(&s);
    char *log = sim_log(&s);
    assert_null(strstr(log, "poll:"));
    free(log);
}

/* Malformed input never crashes it; every anomaly is one log line (§1.3). */
static void bad_input(void **state)
{
    (void)state;
    for (int quiet = 0; quiet < 2; quiet++) {
        dk_test_sim s;
        const char *a[] = { quiet ? "-q" : NULL, NULL };
        sim_start(&s, a);
        int fd = port_open(s.pty);
        ping(fd, 1);
        uint8_t junk[3000];
        dk_test_fill(junk, sizeof junk, 7);
        for (size_t i = 0; i < sizeof junk; i++)
            if (junk[i] == 0xC0 || junk[i] == 0xDB)
                junk[i] = 0x5A;
        dk_test_send_raw(fd, junk, sizeof junk); /* 3000 bytes of garbage, no END */
        dk_test_send_raw(fd, "\xC0", 1);
        ping(fd, 2);
        dk_test_send_raw(fd, "\xC0\xC0\xC0", 3); /* three empty frames */
        ping(fd, 3);
        dk_test_send_raw(fd, "\x09\xDB\x01\x02\xC0", 5); /* bad escape */
        ping(fd, 4);
        const uint8_t one[] = { 0x09 };
        dk_test_send_frame(fd, one, 1); /* short PING: answered, whatever the id */
        uint8_t got[16];
        assert_int_equal(dk_test_recv_frame(fd, got, sizeof got, 2000), 4);
        /* the host vanishes in the middle of a frame: the chip keeps the
         * bytes, so the next frame is glued to them (§1.3) */
        dk_test_send_raw(fd, "\x09\x55", 2);
        close(fd);
        dk_test_sleep_ms(60);
        fd = port_open(s.pty);
        dk_test_send_raw(fd, "\x09\x66\xC0", 3); /* decoded: 09 55 09 66 -> PING id 0x55 */
        assert_int_equal(dk_test_recv_frame(fd, got, sizeof got, 2000), 4);
        assert_int_equal(got[3], 0x55);
        ping(fd, 5);
        close(fd);
        dk_test_sim_stop(&s);
        char *log = sim_log(&s);
        if (quiet) {
            assert_null(strstr(log, "slip:"));
        } else {
            assert_int_equal(dk_test_count(log, "longer than 129 bytes"), 1);
            assert_int_equal(dk_test_count(log, "empty frame"), 3);
            assert_int_equal(dk_test_count(log, "bad escape"), 1);
            assert_int_equal(dk_test_count(log, "in the middle of a frame"), 1);
        }
        free(log);
    }
}

/* --link: made, refused over foreign files, replaces a stale pty link,
 * removed at exit. */
static void link_path(void **state)
{
    (void)state;
    const char *link = P(1, "port");
    dk_test_sim s;
    const char *a[] = { "--link", link, NULL };
    sim_start(&s, a);
    char target[256] = "";
    ssize_t n = readlink(link, target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = 0;
    assert_string_equal(target, s.pty);
    int fd = port_open(link);
    ping(fd, 1);
    close(fd);
    dk_test_sim_stop(&s);
    struct stat st;
    assert_int_equal(lstat(link, &st), -1);

    /* a stale link left by a killed dfusim is replaced */
    assert_int_equal(symlink("/dev/pts/98765", link), 0);
    sim_start(&s, a);
    n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    assert_string_equal(target, s.pty);
    dk_test_sim_stop(&s);

    /* a regular file, a directory, a link elsewhere: refused, untouched */
    assert_int_equal(dk_test_write_file(link, "keep", 4), 0);
    char *err;
    assert_int_equal(sim_run(a, &err, NULL), 1);
    assert_non_null(strstr(err, "not replacing"));
    assert_int_equal(dk_test_count(err, "\n"), 1);
    free(err);
    size_t len;
    char *kept = (char *)dk_test_read_file(link, &len);
    assert_string_equal(kept, "keep");
    free(kept);
    unlink(link);
    assert_int_equal(symlink(P(2, "elsewhere"), link), 0);
    assert_int_equal(sim_run(a, &err, NULL), 1);
    free(err);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
}

/* --flash: kill -9 in the middle, restart, the chip boots from the file:
 * init command persisted at command EXECUTE, data progress only with
 * --save-progress-in-flash (§6.3, §6.9); --show-settings reads the file. */
static void flash_persist(void **state)
{
    (void)state;
    make_pkg("20000");
    const dk_image *img = &pkg.img[0];
    for (int save = 0; save < 2; save++) {
        const char *fl = P(1, save ? "save.flash" : "nosave.flash");
        const char *a[] = { "--allow-unsigned", "--flash", fl,
                            save ? "--save-progress-in-flash" : NULL, NULL };
        dk_test_sim s;
        sim_start(&s, a);
        int fd = port_open(s.pty);
        send_init(fd);
        send_objects(fd, 0, 2);
        /* a third object half written, not executed */
        create(fd, 0x02, 4096);
        write_data(fd, img->bin + 8192, 2048);
        uint32_t off, crc;
        crc_get(fd, &off, &crc);
        assert_int_equal(off, 10240);
        close(fd);
        dk_test_sim_kill(&s);

        sim_start(&s, a);
        fd = port_open(s.pty);
        select_obj(fd, 0x01, &off, &crc);
        assert_int_equal(off, img->dat_len);
        assert_int_equal(crc, dk_crc32(0, img->dat, img->dat_len));
        select_obj(fd, 0x02, &off, &crc);
        if (save) {
            assert_int_equal(off, 8192);
            assert_int_equal(crc, dk_crc32(0, img->bin, 8192));
        } else {
            assert_int_equal(off, 0);
            assert_int_equal(crc, 0);
        }
        close(fd);
        dk_test_sim_stop(&s);

        const char *show[] = { "--flash", fl, "--show-settings", NULL };
        char *out, *err;
        assert_int_equal(sim_run(show, &err, &out), 0);
        char want[64];
        snprintf(want, sizeof want, "progress.command_size: 0x%08zx", img->dat_len);
        if (!strstr(out, want))
            fail_msg("--show-settings lacks '%s':\n%s", want, out);
        snprintf(want, sizeof want, "progress.firmware_image_offset_last: 0x%08x", save ? 8192 : 0);
        if (!strstr(out, want))
            fail_msg("--show-settings lacks '%s':\n%s", want, out);
        free(out);
        free(err);
    }
    const char *missing[] = { "--flash", P(2, "nope.flash"), "--show-settings", NULL };
    char *err;
    assert_int_equal(sim_run(missing, &err, NULL), 1);
    assert_int_equal(dk_test_count(err, "\n"), 1);
    free(err);
    struct stat st;
    assert_int_equal(stat(P(2, "nope.flash"), &st), -1); /* not created */
    dk_pkg_free(&pkg);
}

/* ---- faults: every action observable ------------------------------------- */

static void fault_drop(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *a[] = { "--fault", "op=ping#2:drop-response", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    ping(fd, 1);
    assert_false(ping_answered(fd, 2, 300));
    ping(fd, 3);
    ping(fd, 4);
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "response dropped (fault): PING");
}

static void fault_delay(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *a[] = { "--fault", "op=ping#2:delay-response=400", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    ping(fd, 1);
    int64_t t = dk_test_now_ms();
    assert_false(ping_answered(fd, 2, 250)); /* not yet */
    uint8_t got[16];
    assert_int_equal(dk_test_recv_frame(fd, got, sizeof got, 2000), 4);
    assert_int_equal(got[3], 2);
    assert_true(dk_test_now_ms() - t >= 390); /* a lower bound only */
    ping(fd, 3);
    close(fd);
    dk_test_sim_stop(&s);
}

static void fault_corrupt(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *a[] = { "--fault", "op=ping:corrupt-byte", "--fault", "op=mtu:corrupt-byte=3", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    const uint8_t p[] = { 0x09, 0x11 }, p_r[] = { 0x60, 0x09, 0x01, 0xEE };
    expect_answer(fd, p, 2, p_r, 4);
    const uint8_t m[] = { 0x07 }, m_r[] = { 0x60, 0x07, 0x01, 0x7C, 0x00 };
    expect_answer(fd, m, 1, m_r, 5);
    ping(fd, 0x12); /* once only */
    close(fd);
    dk_test_sim_stop(&s);
}

/* stall: nothing answered until a reset (SIGUSR1). */
static void fault_stall(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *a[] = { "--fault", "op=ping#2:stall", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    ping(fd, 1);
    assert_false(ping_answered(fd, 2, 300));
    assert_false(ping_answered(fd, 3, 300));
    kill(s.pid, SIGUSR1);
    dk_test_sleep_ms(100);
    ping(fd, 4);
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "reset (SIGUSR1)");
}

/* reset: RAM state gone (a half-written command object), boot path again. */
static void fault_reset(void **state)
{
    (void)state;
    make_pkg("9000");
    dk_test_sim s;
    const char *a[] = { "--allow-unsigned", "--fault", "op=ping#2:reset", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    ping(fd, 1);
    create(fd, 0x01, (uint32_t)pkg.img[0].dat_len);
    write_data(fd, pkg.img[0].dat, 32);
    uint32_t off, crc;
    select_obj(fd, 0x01, &off, &crc);
    assert_int_equal(off, 32);
    assert_false(ping_answered(fd, 2, 300)); /* the request is lost with the reset */
    select_obj(fd, 0x01, &off, &crc);
    assert_int_equal(off, 0);
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "reset (fault): boot 2");
    dk_pkg_free(&pkg);
}

/* power-cut=MS: the chip is off for MS ms (input lost), then powers on. */
static void fault_power_cut(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *a[] = { "--fault", "after-op=ping#2:power-cut=500", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    ping(fd, 1);
    assert_false(ping_answered(fd, 2, 200)); /* handled, answer never sent */
    assert_false(ping_answered(fd, 3, 100)); /* off */
    dk_test_sleep_ms(400);
    ping(fd, 4);
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "power off for 500 ms");
    expect_log(&s, "input ignored: the chip is off");
    expect_log(&s, "power back on: boot 2");
}

/* flash-error: the settings write at command EXECUTE fails -> 0x0A (§3.1). */
static void fault_flash_error(void **state)
{
    (void)state;
    make_pkg("9000");
    dk_test_sim s;
    const char *a[] = { "--allow-unsigned", "--fault", "flash-op=1:flash-error", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    const dk_image *img = &pkg.img[0];
    create(fd, 0x01, (uint32_t)img->dat_len);
    write_data(fd, img->dat, img->dat_len);
    const uint8_t ex[] = { 0x04 }, ex_r[] = { 0x60, 0x04, 0x0A };
    expect_answer(fd, ex, 1, ex_r, 3);
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "flash op 1: ");
    dk_pkg_free(&pkg);
}

/* flash-op=N:power-cut: cut inside the settings write of command EXECUTE:
 * no answer, reboot, the chip still works. */
static void fault_flash_cut(void **state)
{
    (void)state;
    make_pkg("9000");
    dk_test_sim s;
    const char *a[] = { "--allow-unsigned", "--fault", "flash-op=2:power-cut", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    const dk_image *img = &pkg.img[0];
    create(fd, 0x01, (uint32_t)img->dat_len);
    write_data(fd, img->dat, img->dat_len);
    const uint8_t ex[] = { 0x04 };
    dk_test_send_frame(fd, ex, 1);
    expect_silence(fd, 300);
    ping(fd, 1);
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "POWER CUT (fault)");
    expect_log(&s, "power cut in a flash operation: boot 2");
    dk_pkg_free(&pkg);
}

/* after-bytes=N fires once N image bytes are in; after-ms=T at T ms. */
static void fault_bytes_time(void **state)
{
    (void)state;
    make_pkg("9000");
    dk_test_sim s;
    const char *a[] = { "--allow-unsigned", "--fault", "after-bytes=1024:drop-response", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    send_init(fd);
    create(fd, 0x02, 4096);
    write_data(fd, pkg.img[0].bin, 960);
    uint32_t off, crc;
    crc_get(fd, &off, &crc);
    assert_int_equal(off, 960);
    write_data(fd, pkg.img[0].bin + 960, 64); /* 1024: armed */
    const uint8_t cg[] = { 0x03 };
    dk_test_send_frame(fd, cg, 1);
    expect_silence(fd, 300);
    crc_get(fd, &off, &crc);
    assert_int_equal(off, 1024);
    close(fd);
    dk_test_sim_stop(&s);
    dk_pkg_free(&pkg);

    const char *b[] = { "--fault", "after-ms=400:stall", NULL };
    sim_start(&s, b);
    fd = port_open(s.pty);
    ping(fd, 1);
    dk_test_sleep_ms(500);
    assert_false(ping_answered(fd, 2, 300));
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "fault after-ms=400:stall fired (timer)");
}

/* ---- run-time control ------------------------------------------------------ */

/* SIGUSR1 reset, SIGUSR2 power cut, SIGHUP HEX dump, SIGTERM: HEX and a
 * capture with both directions. */
static void signals(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *a[] = { "--dump-hex", P(1, "flash.hex"), "--capture", P(2, "sim.pcap"), NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    ping(fd, 1);
    kill(s.pid, SIGUSR1);
    dk_test_sleep_ms(100);
    ping(fd, 2);
    kill(s.pid, SIGUSR2);
    dk_test_sleep_ms(100);
    ping(fd, 3);
    struct stat st;
    assert_int_equal(stat(P(1, "flash.hex"), &st), -1);
    kill(s.pid, SIGHUP);
    dk_test_sleep_ms(200);
    assert_int_equal(stat(P(1, "flash.hex"), &st), 0);
    unlink(P(1, "flash.hex"));
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "reset (SIGUSR1): boot 2");
    expect_log(&s, "power cut (SIGUSR2): boot 3");
    char *hex = dk_test_slurp(P(1, "flash.hex"));
    assert_int_equal(hex[0], ':');
    assert_non_null(strstr(hex, ":00000001FF"));
    free(hex);

    dk_err err;
    dk_cap_reader *r = dk_cap_open(P(2, "sim.pcap"), DK_FMT_AUTO, DK_DIR_UNKNOWN, &err);
    if (!r)
        fail_msg("capture: %s", err.msg);
    dk_chunk c;
    int tx = 0, rx = 0;
    while (dk_cap_next(r, &c, &err) == 1) {
        if (c.dir == DK_DIR_HOST)
            tx++;
        if (c.dir == DK_DIR_TARGET) {
            rx++;
            assert_int_equal(c.data[0], 0x60);
        }
        assert_true(c.t_us > 0);
    }
    dk_cap_close(r);
    assert_int_equal(tx, 3);
    assert_int_equal(rx, 3);
}

static int ctl_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    assert_true(strlen(path) < sizeof a.sun_path);
    memcpy(a.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        fail_msg("connect %s: %s", path, strerror(errno));
    return fd;
}

/* One command, its whole reply (up to the "ok"/"error" line). */
static char *ctl(int fd, const char *cmd)
{
    dk_test_send_raw(fd, cmd, strlen(cmd));
    dk_test_send_raw(fd, "\n", 1);
    static char buf[16384];
    size_t n = 0;
    int64_t end = dk_test_now_ms() + 3000;
    for (;;) {
        buf[n] = 0;
        if ((n >= 3 && !strcmp(buf + n - 3, "ok\n") && (n == 3 || buf[n - 4] == '\n')) ||
            strstr(buf, "error:"))
            if (buf[n - 1] == '\n')
                return buf;
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        if (dk_test_now_ms() > end || poll(&pf, 1, 100) < 0)
            fail_msg("control: no reply to '%s' (got '%s')", cmd, buf);
        if (pf.revents) {
            ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
            assert_true(r > 0);
            n += (size_t)r;
        }
    }
}

/* --control: reset, power-cut, enter-dfu (with an installed app), stall,
 * show-settings, dump-hex, status, an unknown command, wrong arguments and a
 * NUL byte. */
static void control(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *sock = P(1, "ctl.sock");
    const char *a[] = { "--control", sock, "--app-size", "8192", NULL };
    sim_start(&s, a);
    int c = ctl_connect(sock);
    assert_non_null(strstr(ctl(c, "status"), "state: app"));
    int fd = port_open(s.pty);
    assert_false(ping_answered(fd, 1, 200)); /* the app runs: silent (§6.9) */
    assert_non_null(strstr(ctl(c, "enter-dfu"), "ok"));
    ping(fd, 2);
    assert_non_null(strstr(ctl(c, "status"), "state: dfu"));
    assert_non_null(strstr(ctl(c, "stall"), "ok"));
    assert_false(ping_answered(fd, 3, 200));
    ctl(c, "reset"); /* GPREGRET was consumed: a valid app boots again */
    assert_non_null(strstr(ctl(c, "status"), "state: app"));
    assert_non_null(strstr(ctl(c, "power-cut 100"), "ok"));
    assert_non_null(strstr(ctl(c, "status"), "state: off"));
    dk_test_sleep_ms(200);
    assert_non_null(strstr(ctl(c, "status"), "boots: 4"));
    /* wrong arguments are refused, and nothing is done: these were a power
     * cycle (0 ms) and a reset */
    assert_string_equal(ctl(c, "power-cut 12x"), "error: power-cut: '12x' is not a time in ms (a whole number "
                                                 "from 0 to 3600000, decimal or 0x-hex)\n");
    assert_non_null(strstr(ctl(c, "power-cut abc"), "error: power-cut: 'abc' is not a time in ms"));
    assert_string_equal(ctl(c, "reset now"), "error: reset takes no argument (got 'now')\n");
    assert_string_equal(ctl(c, "resume later"), "error: resume takes nothing or 'drop' (got 'later')\n");
    assert_non_null(strstr(ctl(c, "status"), "boots: 4"));
    char *set = ctl(c, "show-settings");
    assert_non_null(strstr(set, "bank_0.image_size: 8192"));
    assert_non_null(strstr(set, "bank_0.bank_code: 0x01"));
    assert_non_null(strstr(ctl(c, "dump-hex"), "error:")); /* no --dump-hex and no file */
    assert_non_null(strstr(ctl(c, "dump-hex " ), "error:"));
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "dump-hex %s", P(2, "x.hex"));
    assert_non_null(strstr(ctl(c, cmd), "ok"));
    struct stat st;
    assert_int_equal(stat(P(2, "x.hex"), &st), 0);
    assert_non_null(strstr(ctl(c, "explode"), "error: unknown command"));
    /* a NUL in a line no longer hides its end: refused, and the next command is answered */
    dk_test_send_raw(c, "sta\0tus", 7);
    assert_non_null(strstr(ctl(c, ""), "error: control byte 0x00 at column 4"));
    assert_non_null(strstr(ctl(c, "status"), "state:"));
    close(c);
    c = ctl_connect(sock); /* a second connection works too */
    assert_non_null(strstr(ctl(c, "status"), "state:"));
    close(c);
    close(fd);
    dk_test_sim_stop(&s);
    assert_int_equal(stat(sock, &st), -1); /* removed at exit */
}

/* The --control socket is mode 0600 whatever the umask (under umask 000 it
 * was 0777: anyone could cut power or write a HEX file anywhere dfusim may),
 * and dfusim replaces only a stale socket of its own at the path: not one
 * that is in use, not a file, not a symlink, not another user's. */
static void control_mode(void **state)
{
    (void)state;
    const char *sock = P(1, "ctl.sock");
    mode_t old = umask(0);
    dk_test_sim s;
    const char *a[] = { "--control", sock, NULL };
    sim_start(&s, a);
    umask(old);
    struct stat st;
    assert_int_equal(lstat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    if ((st.st_mode & 07777) != 0600)
        fail_msg("--control socket mode %04o under umask 000, expected 0600", (unsigned)(st.st_mode & 07777));
    /* in use: a second dfusim leaves it alone, the first keeps it */
    char *err;
    assert_int_equal(sim_run(a, &err, NULL), 1);
    assert_non_null(strstr(err, "is in use (something listens on it); not replacing it"));
    assert_int_equal(dk_test_count(err, "\n"), 1);
    free(err);
    int c = ctl_connect(sock);
    assert_non_null(strstr(ctl(c, "status"), "state:"));
    close(c);
    /* killed: its socket is stale, the next dfusim takes the path over */
    dk_test_sim_kill(&s);
    assert_int_equal(lstat(sock, &st), 0);
    umask(0);
    sim_start(&s, a);
    umask(old);
    c = ctl_connect(sock);
    assert_non_null(strstr(ctl(c, "status"), "state:"));
    close(c);
    assert_int_equal(lstat(sock, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    dk_test_sim_stop(&s);
    assert_int_equal(lstat(sock, &st), -1); /* removed at exit */

    /* a file, a symlink (even to a stale socket of ours), a socket of
     * another user's: left alone */
    const char *file = P(2, "ctl.file");
    assert_int_equal(dk_test_write_file(file, "keep", 4), 0);
    const char *f[] = { "--control", file, NULL };
    assert_int_equal(sim_run(f, &err, NULL), 1);
    assert_non_null(strstr(err, "exists and is not a socket; not replacing it"));
    free(err);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    assert_true(strlen(sock) < sizeof sa.sun_path);
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd); /* a stale socket */
    const char *lnk = P(3, "ctl.link");
    assert_int_equal(symlink(sock, lnk), 0);
    const char *l[] = { "--control", lnk, NULL };
    assert_int_equal(sim_run(l, &err, NULL), 1);
    assert_non_null(strstr(err, "exists and is not a socket; not replacing it"));
    free(err);
    if (chown(sock, 12345, 12345) == 0) { /* root can make one of another user's */
        assert_int_equal(sim_run(a, &err, NULL), 1);
        assert_non_null(strstr(err, "is a socket of uid 12345; not replacing it"));
        free(err);
    }
    assert_int_equal(lstat(sock, &st), 0);
    assert_int_equal(lstat(lnk, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    char *kept = dk_test_slurp(file);
    assert_string_equal(kept, "keep");
    free(kept);
}

/* A cut in the settings write that follows the final EXECUTE: the SDK has
 * sent the answer before that write (§6.6 step 4), so the host gets it.
 * Flash operations on a blank MBR-only chip: 4 at the init packet's EXECUTE
 * (page and backup), an erase and a write per 64 bytes of each object, then
 * the settings page's erase: number 149 for 4096 + 4096 + 808 bytes. */
static void fault_flash_cut_final(void **state)
{
    (void)state;
    make_pkg("9000");
    dk_test_sim s;
    const char *a[] = { "--allow-unsigned", "--fault", "flash-op=149:power-cut", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    const dk_image *img = &pkg.img[0];
    ping(fd, 1);
    send_init(fd);
    send_objects(fd, 0, 2);
    create(fd, 0x02, 808);
    write_data(fd, img->bin + 8192, 808);
    uint32_t off, crc;
    crc_get(fd, &off, &crc);
    assert_int_equal(off, 9000);
    execute(fd); /* answered, then the cut */
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "flash op 149: erase 0x000FF000 len 4096: POWER CUT (fault)");
    dk_pkg_free(&pkg);
}

/* pause: once 6000 image bytes are in, the chip takes no more input (it
 * waits in the pty, as under CTS); "resume drop" throws away what the
 * vanished host had sent meanwhile, so the bootloader is left in the middle
 * of an object with its RAM state intact (§6.9); plain "resume" lets the
 * waiting input through. */
static void fault_pause(void **state)
{
    (void)state;
    make_pkg("12000");
    dk_test_sim s;
    const char *sock = P(1, "ctl.sock");
    const char *a[] = { "--allow-unsigned", "--control", sock, "--fault", "after-bytes=6000:pause",
                        "--fault", "op=ping#3:pause", NULL };
    sim_start(&s, a);
    const dk_image *img = &pkg.img[0];
    int fd = port_open(s.pty);
    ping(fd, 1);
    send_init(fd);
    send_objects(fd, 0, 1);
    create(fd, 0x02, 4096);
    write_data(fd, img->bin + 4096, 4096);
    uint8_t req[] = { 0x03 };
    dk_test_send_frame(fd, req, 1);
    expect_silence(fd, 300);
    int c = ctl_connect(sock);
    assert_non_null(strstr(ctl(c, "status"), "state: paused"));
    assert_non_null(strstr(ctl(c, "resume now"), "error:"));
    close(fd); /* the host is gone */
    assert_non_null(strstr(ctl(c, "resume drop"), "ok"));
    assert_non_null(strstr(ctl(c, "status"), "state: dfu"));
    fd = port_open(s.pty);
    uint32_t off, crc;
    select_obj(fd, 0x02, &off, &crc);
    assert_int_equal(off, 6016); /* 94 writes of 64 bytes: the one that passed 6000 */
    assert_int_equal(crc, dk_crc32(0, img->bin, off));
    ping(fd, 2);
    dk_test_send_frame(fd, (const uint8_t[]){ 0x09, 3 }, 2); /* answered, then a pause */
    dk_test_sleep_ms(100);
    dk_test_send_frame(fd, (const uint8_t[]){ 0x09, 4 }, 2);
    uint8_t got[64];
    assert_int_equal(dk_test_recv_frame(fd, got, sizeof got, 1000), 4);
    assert_int_equal(got[3], 3);
    expect_silence(fd, 200);
    assert_non_null(strstr(ctl(c, "resume"), "ok")); /* PING 4 was waiting: it goes through */
    assert_int_equal(dk_test_recv_frame(fd, got, sizeof got, 1000), 4);
    assert_int_equal(got[3], 4);
    close(c);
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "paused (fault)");
    dk_pkg_free(&pkg);
}

/* Inactivity (§6.8): the chip resets after --inactivity-ms without CREATE or
 * data EXECUTE (PINGs do not count) and boots the installed app. */
static void inactivity(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *a[] = { "--app-size", "8192", "--enter-dfu", "first-boot", "--inactivity-ms", "400",
                        NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    ping(fd, 1);
    for (int i = 0; i < 4; i++) {
        dk_test_sleep_ms(50);
        ping(fd, (uint8_t)(2 + i));
    }
    dk_test_sleep_ms(300);
    assert_false(ping_answered(fd, 9, 200));
    close(fd);
    dk_test_sim_stop(&s);
    expect_log(&s, "inactivity timeout: boot 2, the app runs");
}

/* Unknown options and bad values: one line, exit 2; --help exits 0. */
static void usage(void **state)
{
    (void)state;
    static const char *const bad[][4] = {
        { "--bogus" },
        { "-x" },
        { "extra-arg" },
        { "--chip", "nrf51422" },
        { "--mtu", "x" },
        { "--mtu", "5" },
        { "--mtu" },
        { "--hw-version", "-1" },
        { "--sd-fwid", "0xFFFE" },
        { "--sd-end", "0x5000" },
        { "--enter-dfu", "sometimes" },
        { "--inactivity-ms", "50" },
        { "--baud", "0" },
        { "--fault", "op=ping" },
        { "--fault", "after-ms=10:explode" },
        { "--public-key", "/nonexistent/key.pem" },
        { "--app-size", "99999999999" },
        { "--app-size", "1000000" },                              /* flash, not the app area */
        { "--sd-fwid=0x100", "--sd-end=0xF6000", "--app-size=4096" }, /* no room left */
        { "--sd-fwid", "0xFFFF" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *err, *out;
        int rc = sim_run(bad[i], &err, &out);
        if (rc != 2 || dk_test_count(err, "\n") != 1 || strncmp(err, "dfusim: ", 8) || *out)
            fail_msg("%s %s: exit %d, stderr '%s', stdout '%s'", bad[i][0], bad[i][1] ? bad[i][1] : "",
                     rc, err, out);
        free(err);
        free(out);
    }
    const char *help[] = { "--help", NULL };
    char *out;
    assert_int_equal(sim_run(help, NULL, &out), 0);
    assert_non_null(strstr(out, "--fault SPEC"));
    free(out);
}

/* --realtime: the line runs at --baud, the chip's CPU stops for each flash
 * operation (line.h). */
static void realtime(void **state)
{
    (void)state;
    make_pkg("9000");
    dk_test_sim s;
    const char *a[] = { "--allow-unsigned", "--realtime", "--baud", "9600", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    /* PING: 3 bytes out, 4+1 back at 9600 baud = 8.3 ms of line time */
    int64_t t = dk_test_now_ms();
    ping(fd, 1);
    assert_true(dk_test_now_ms() - t >= 7);
    close(fd);
    dk_test_sim_stop(&s);
    dk_pkg_free(&pkg);
}

/* A data CREATE and 8 WRITEs of 64 bytes, as one write. */
static size_t burst(uint8_t *out, const uint8_t *data)
{
    uint8_t req[65] = { 0x01, 0x02 };
    dk_put_le32(req + 2, 4096);
    size_t n = dk_slip_encode(req, 6, out);
    for (int k = 0; k < 8; k++) {
        req[0] = 0x08;
        memcpy(req + 1, data + k * 64, 64);
        n += dk_slip_encode(req, 65, out + n);
    }
    return n;
}

/* The burst against --realtime at 115200: flow (0 none, 1 RTS/CTS on the
 * host's port), after (1: the WRITEs wait for CREATE's answer). */
static void rt_burst(int flow, int after, const char *hwfc)
{
    make_pkg("9000");
    dk_test_sim s;
    const char *a[] = { "--allow-unsigned", "--realtime", "--hwfc", hwfc, NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    if (flow) {
        struct termios tio;
        assert_int_equal(tcgetattr(fd, &tio), 0);
        tio.c_cflag |= CRTSCTS;
        assert_int_equal(tcsetattr(fd, TCSANOW, &tio), 0);
    }
    send_init(fd);
    const dk_image *img = &pkg.img[0];
    uint8_t b[1200];
    size_t n = burst(b, img->bin);
    if (after) {
        create(fd, 0x02, 4096);
        size_t c = dk_slip_encode((const uint8_t[]){ 0x01, 0x02, 0x00, 0x10, 0, 0 }, 6, b);
        dk_test_send_raw(fd, b + c, n - c); /* the WRITEs (the encoded CREATE is c bytes) */
    } else {
        dk_test_send_raw(fd, b, n);
    }
    bool lost = !after && !(flow && !strcmp(hwfc, "on"));
    if (!after) {
        uint8_t got[16];
        int len = dk_test_recv_frame(fd, got, sizeof got, 500);
        if (lost) { /* the WRITEs overran the UARTE during the erase: reset, no answer */
            for (; len >= 0; len = dk_test_recv_frame(fd, got, sizeof got, 300))
                assert_false(len == 3 && got[1] == 0x01 && got[2] == 0x01);
        } else {
            assert_true(len == 3 && got[1] == 0x01 && got[2] == 0x01);
        }
    }
    if (!lost) {
        uint32_t off, crc;
        crc_get(fd, &off, &crc);
        assert_int_equal(off, 512);
        assert_int_equal(crc, dk_crc32(0, img->bin, 512));
    }
    close(fd);
    dk_test_sim_stop(&s);
    char *log = sim_log(&s);
    assert_int_equal(dk_test_count(log, "rx: UARTE overrun"), lost ? 1 : 0);
    assert_int_equal(dk_test_count(log, "reset by a UARTE overrun"), lost ? 1 : 0);
    free(log);
    dk_pkg_free(&pkg);
}

static void realtime_burst(void **state)
{
    (void)state;
    rt_burst(0, 0, "on");
}

static void realtime_burst_rtscts(void **state)
{
    (void)state;
    rt_burst(1, 0, "on");
}

/* The chip's UART without flow control: the host's RTS/CTS does not help. */
static void realtime_burst_nohwfc(void **state)
{
    (void)state;
    rt_burst(1, 0, "off");
}

static void realtime_after(void **state)
{
    (void)state;
    rt_burst(0, 1, "on");
}

/* An empty SLIP frame repeats the request its block held (§14.4): after
 * boot a PROTOCOL_VERSION, after a PING the same PING. */
static void realtime_empty(void **state)
{
    (void)state;
    dk_test_sim s;
    const char *a[] = { "--realtime", "--baud", "1000000", NULL };
    sim_start(&s, a);
    int fd = port_open(s.pty);
    const uint8_t end2[] = { 0xC0 };
    const uint8_t v1[] = { 0x60, 0x00, 0x01, 0x01 };
    uint8_t got[16];
    dk_test_send_raw(fd, end2, 1);
    assert_int_equal(dk_test_recv_frame(fd, got, sizeof got, 1000), 4);
    assert_memory_equal(got, v1, 4);
    ping(fd, 0x42);
    dk_test_send_raw(fd, end2, 1);
    assert_int_equal(dk_test_recv_frame(fd, got, sizeof got, 1000), 4);
    assert_int_equal(got[1], 0x09);
    assert_int_equal(got[3], 0x42);
    close(fd);
    dk_test_sim_stop(&s);
    char *log = sim_log(&s);
    assert_int_equal(dk_test_count(log, "empty SLIP frame"), 2);
    free(log);
}

/* A host that sends requests and never reads their answers, until the
 * pty is full both ways (dfusim waits to write an answer, the host cannot
 * write more).  Returns the host's fd, non-blocking. */
static int flood_host(const char *pty)
{
    int fd = port_open(pty);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    uint8_t frame[8];
    uint8_t req[] = { 0x09, 0x11 };
    size_t n = dk_slip_encode(req, sizeof req, frame);
    int64_t blocked_since = -1, end = dk_test_now_ms() + 20000;
    /* Full both ways: the host's writes have been refused for 1.5 s, longer
     * than dfusim's wait on one answer (1 s), after which it reads again. */
    while (dk_test_now_ms() < end) {
        ssize_t w = write(fd, frame, n);
        if (w > 0) {
            blocked_since = -1;
            continue;
        }
        assert_true(w < 0 && errno == EAGAIN);
        if (blocked_since < 0)
            blocked_since = dk_test_now_ms();
        else if (dk_test_now_ms() - blocked_since > 1500)
            return fd;
        dk_test_sleep_ms(5);
    }
    fail_msg("the host could write for 20 s: dfusim never stopped reading");
    return -1;
}

/* A host that never reads its answers fills the pty and dies while an
 * answer waits to be written (issue: dfusim then polled a hung-up pty in a
 * loop at 100% CPU and ignored SIGTERM).  dfusim stays idle, serves the
 * next host, and SIGTERM ends it at once, also while a live host that
 * does not read keeps it waiting to write. */
static void dead_host(void **state)
{
    (void)state;
    dk_test_sim s;
    sim_start(&s, NULL);
    int fd = flood_host(s.pty);
    close(fd); /* the host dies with the pty full */
    dk_test_sleep_ms(300);
    long t0 = dk_test_cpu_ticks(s.pid);
    dk_test_sleep_ms(1000);
    long used = dk_test_cpu_ticks(s.pid) - t0;
    if (used > sysconf(_SC_CLK_TCK) / 5)
        fail_msg("dfusim used %ld ticks of CPU in 1 s after the host died (bound %ld)", used,
                 sysconf(_SC_CLK_TCK) / 5);
    /* The next host is served, with none of the last one's answers.  The
     * chip keeps a frame the last host left unfinished (as a UART does): an
     * END completes it, and it is answered as the PING it was. */
    fd = port_open(s.pty);
    dk_test_send_raw(fd, "\xC0", 1);
    uint8_t got[16];
    int len = dk_test_recv_frame(fd, got, sizeof got, 300);
    if (len >= 0 && (len < 3 || got[0] != 0x60 || got[1] != 0x09 || (len == 4 && got[3] != 0x11)))
        fail_msg("the next host got a frame of %d bytes that is no answer to its predecessor's last PING", len);
    expect_silence(fd, 100);
    ping(fd, 0x42);
    expect_silence(fd, 200);
    /* a host that stops reading again: dfusim waits on its writes, and
     * SIGTERM still ends it at once */
    close(fd);
    fd = flood_host(s.pty);
    int64_t t = dk_test_now_ms();
    kill(s.pid, SIGTERM);
    int rc = dk_test_reap(s.pid, 500);
    if (rc != 0)
        fail_msg("dfusim did not exit 0 within 500 ms of SIGTERM (status %d, %lld ms)", rc,
                 (long long)(dk_test_now_ms() - t));
    close(fd);
    dk_test_sim_kill_all();
}

/* The same host dying, SIGTERM right after: dfusim exits at once. */
static void dead_host_term(void **state)
{
    (void)state;
    dk_test_sim s;
    sim_start(&s, NULL);
    close(flood_host(s.pty));
    dk_test_sleep_ms(200);
    kill(s.pid, SIGTERM);
    int rc = dk_test_reap(s.pid, 500);
    if (rc != 0)
        fail_msg("dfusim did not exit 0 within 500 ms of SIGTERM after its host died (status %d)", rc);
    dk_test_sim_kill_all();
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(dk_test_tmpdir(dir, sizeof dir), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dk_test_sim_kill_all();
    if (!getenv("DK_KEEP"))
        dk_test_rmtree(dir);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct CMUnitTest all[] = {
        cmocka_unit_test_setup_teardown(basics, setup, teardown),
        cmocka_unit_test_setup_teardown(mtu, setup, teardown),
        cmocka_unit_test_setup_teardown(reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(link_path, setup, teardown),
        cmocka_unit_test_setup_teardown(flash_persist, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_stall, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_power_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_flash_error, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_flash_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_bytes_time, setup, teardown),
        cmocka_unit_test_setup_teardown(signals, setup, teardown),
        cmocka_unit_test_setup_teardown(control, setup, teardown),
        cmocka_unit_test_setup_teardown(inactivity, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_flash_cut_final, setup, teardown),
        cmocka_unit_test_setup_teardown(usage, setup, teardown),
        cmocka_unit_test_setup_teardown(realtime, setup, teardown),
        cmocka_unit_test_setup_teardown(realtime_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(realtime_burst_rtscts, setup, teardown),
        cmocka_unit_test_setup_teardown(realtime_burst_nohwfc, setup, teardown),
        cmocka_unit_test_setup_teardown(realtime_after, setup, teardown),
        cmocka_unit_test_setup_teardown(realtime_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_host, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_host_term, setup, teardown),
        cmocka_unit_test_setup_teardown(control_mode, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return dk_suite_run(argc, argv, all, NULL, NULL);
}
