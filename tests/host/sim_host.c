/* sim_host.c - dfuhost against dfusim over a pty, one scenario per run
 * (argv[1]; CTest registers each).  Every scenario's dfuhost capture goes
 * through dfudecode, whose exit status must match the outcome (0 completed,
 * 1 failed).  Sections are those of protocol.md.
 *
 * Tool paths come from the build (DFUHOST, DFUSIM, DFUDECODE, MKPKG).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dfukit/rd.h"
#include "dk_proc.h"
#include "dk_suite.h"
#include "dk_test.h"

#define APP_SEED 1
#define APP_LEN (3 * 4096 + 1712) /* four data objects, the last one short */
#define OBJ 4096

static char dir[512];
static char path_buf[8][1024];

static const char *P(int slot, const char *name)
{
    return dk_test_path(path_buf[slot], sizeof path_buf[slot], dir, name);
}

static bool file_has(const char *path, const char *needle)
{
    char *s = dk_test_slurp(path);
    bool yes = strstr(s, needle) != NULL;
    free(s);
    return yes;
}

/* ---- dfusim ------------------------------------------------------------- */

static void sim_start(dk_test_sim *s, const char *const extra[])
{
    dk_test_sim_start(s, DFUSIM, dir, extra);
}

/* ---- dfuhost, dfudecode, dk-mkpkg --------------------------------------- */

static char host_err[1024];

/* dfuhost on the sim's pty; returns its exit status, stderr in host_err file. */
static int host(const dk_test_sim *s, const char *pkg, const char *cap, const char *const extra[])
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = DFUHOST;
    argv[n++] = "-p";
    argv[n++] = s->pty;
    argv[n++] = "--pkg";
    argv[n++] = pkg;
    argv[n++] = "--timeout";
    argv[n++] = "3";
    argv[n++] = "--response-timeout";
    argv[n++] = "300";
    if (cap) {
        argv[n++] = "--capture";
        argv[n++] = cap;
    }
    for (size_t i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    snprintf(host_err, sizeof host_err, "%s/host.err", dir);
    return dk_test_run(argv, P(7, "host.out"), host_err, 60000);
}

static void expect_host_says(const char *needle)
{
    if (!file_has(host_err, needle)) {
        char *e = dk_test_slurp(host_err);
        fail_msg("dfuhost's stderr lacks \"%s\":\n%s", needle, e);
    }
}

/* dfudecode's exit status on a capture must be want (0 completed, 1 failed). */
static void decode_expect(const char *cap, int want)
{
    const char *argv[] = { DFUDECODE, cap, NULL };
    char out[1024];
    snprintf(out, sizeof out, "%s.txt", cap);
    int rc = dk_test_run(argv, out, P(6, "decode.err"), 30000);
    if (rc != want) {
        char *t = dk_test_slurp(out);
        fail_msg("dfudecode %s: exit %d, want %d\n%s", cap, rc, want, t);
    }
}

static void mkpkg(const char *out, const char *const args[])
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = MKPKG;
    bool sdreq = false;
    for (size_t i = 0; args && args[i]; i++) {
        sdreq |= strcmp(args[i], "--sd-req") == 0;
        argv[n++] = args[i];
    }
    if (!sdreq) { /* MBR-only target: no SoftDevice required (§6.7) */
        argv[n++] = "--sd-req";
        argv[n++] = "0";
    }
    argv[n++] = out;
    argv[n] = NULL;
    int rc = dk_test_run(argv, P(5, "mkpkg.out"), P(4, "mkpkg.err"), 30000);
    if (rc != 0) {
        char *e = dk_test_slurp(P(4, "mkpkg.err"));
        fail_msg("dk-mkpkg failed (%d): %s", rc, e);
    }
}

static const char *app_pkg(void)
{
    static char pkg[1024];
    snprintf(pkg, sizeof pkg, "%s/app.zip", dir);
    char len[32];
    snprintf(len, sizeof len, "%d", APP_LEN);
    const char *a[] = { "--app", len, NULL };
    mkpkg(pkg, a);
    return pkg;
}

/* "app.bin accepted by the target (N image bytes sent" -> N, or -1. */
static long bytes_sent(void)
{
    char *s = dk_test_slurp(host_err);
    const char *k = strstr(s, "accepted by the target (");
    long n = k ? strtol(k + strlen("accepted by the target ("), NULL, 10) : -1;
    free(s);
    return n;
}

/* ---- flash -------------------------------------------------------------- */

static int hexval(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        int d = dk_hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Load an Intel HEX file into flash (erased = 0xFF). */
static void load_hex(const char *path, uint8_t *flash, size_t size)
{
    memset(flash, 0xFF, size);
    char *t = dk_test_slurp(path);
    assert_true(t[0] == ':');
    uint32_t base = 0;
    for (char *line = strtok(t, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        assert_int_equal(line[0], ':');
        int len = hexval(line + 1, 2), addr = hexval(line + 3, 4), type = hexval(line + 7, 2);
        assert_true(len >= 0 && addr >= 0 && type >= 0);
        if (type == 4)
            base = (uint32_t)hexval(line + 9, 4) << 16;
        if (type == 0)
            for (int i = 0; i < len; i++) {
                uint32_t a = base + (uint32_t)addr + (uint32_t)i;
                assert_true(a < size);
                flash[a] = (uint8_t)hexval(line + 9 + 2 * i, 2);
            }
    }
    free(t);
}

/* After activation bank 0 (0x1000 on an MBR-only chip, §7) holds the image. */
static void expect_flash_holds_app(const char *hex)
{
    static uint8_t flash[1 << 20], app[APP_LEN];
    load_hex(hex, flash, sizeof flash);
    dk_test_fill(app, sizeof app, APP_SEED);
    assert_memory_equal(flash + 0x1000, app, sizeof app);
}

/* ---- scenarios ---------------------------------------------------------- */

/* A complete update; the flash after activation equals the image (§6.6). */
static void complete(void **state)
{
    (void)state;
    const char *pkg = app_pkg();
    dk_test_sim s;
    const char *sa[] = { "--allow-unsigned", "--capture", P(1, "sim.pcap"), "--dump-hex",
                         P(2, "flash.hex"), NULL };
    sim_start(&s, sa);
    assert_int_equal(host(&s, pkg, P(0, "host.pcap"), NULL), 0);
    expect_host_says("accepted by the target");
    assert_int_equal(bytes_sent(), APP_LEN);
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 0);
    decode_expect(P(1, "sim.pcap"), 0);
    expect_flash_holds_app(P(2, "flash.hex"));
}

/* The same with PRN notifications checked on the way (§2.3). */
static void prn(void **state)
{
    (void)state;
    const char *pkg = app_pkg();
    dk_test_sim s;
    const char *sa[] = { "--allow-unsigned", "--dump-hex", P(2, "flash.hex"), NULL };
    sim_start(&s, sa);
    const char *ha[] = { "--prn", "3", NULL };
    assert_int_equal(host(&s, pkg, P(0, "host.pcap"), ha), 0);
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 0);
    expect_flash_holds_app(P(2, "flash.hex"));
}

/* Host killed while it waits for a late answer, then run again: the
 * bootloader stayed up, so its RAM state is resumed (§6.9, §5.2).  The second
 * run must not send the init packet again, and sends only the rest. */
static void killed_at(const char *fault, const char *prn, const char *want_note, long want_sent)
{
    const char *pkg = app_pkg();
    dk_test_sim s;
    const char *sa[] = { "--allow-unsigned", "--fault", fault, "--dump-hex", P(2, "flash.hex"), NULL };
    sim_start(&s, sa);
    const char *argv[] = { DFUHOST, "-p", s.pty, "--pkg", pkg, "--response-timeout", "5000",
                           "--capture", P(0, "first.pcap"), prn ? "--prn" : NULL, prn, NULL };
    pid_t h = dk_test_spawn(argv, P(3, "first.out"), P(4, "first.err"));
    /* The fault fires as soon as the host gets there; the answer is 1.5 s late. */
    dk_test_sleep_ms(600);
    int st;
    assert_int_equal(waitpid(h, &st, WNOHANG), 0); /* still waiting */
    kill(h, SIGKILL);
    waitpid(h, &st, 0);
    decode_expect(P(0, "first.pcap"), 1);
    dk_test_sleep_ms(1200); /* let the late answer go out before the next run */
    const char *ha[] = { prn ? "--prn" : NULL, prn, NULL };
    assert_int_equal(host(&s, pkg, P(1, "second.pcap"), ha), 0);
    expect_host_says(want_note);
    if (file_has(host_err, "with a new init packet") || file_has(host_err, "another init packet")) {
        char *e = dk_test_slurp(host_err);
        fail_msg("the second run sent the init packet again:\n%s", e);
    }
    assert_int_equal(bytes_sent(), want_sent);
    dk_test_sim_stop(&s);
    decode_expect(P(1, "second.pcap"), 0);
    expect_flash_holds_app(P(2, "flash.hex"));
}

/* 1: init packet written, its CRC answer late: not executed -> executed. */
static void kill1(void **state)
{
    (void)state;
    killed_at("op=crc#1:delay-response=1500", NULL, "is already on the target", APP_LEN);
}

/* 2: init packet executed, first data CREATE answered late -> data from 0. */
static void kill2(void **state)
{
    (void)state;
    killed_at("op=create#2:delay-response=1500", NULL, "is already on the target", APP_LEN);
}

/* 3: in the middle of the second object (a PRN answer late) -> finish it.
 * Writes: 2 for the 70-byte init packet, 64 for object 1, 40 into object 2. */
static void kill3(void **state)
{
    (void)state;
    killed_at("after-op=write#106:delay-response=1500", "8", "finishing the object at 4096",
              APP_LEN - (OBJ + 40 * 64));
}

/* 4: second object written, its CRC answer late, not executed -> EXECUTE. */
static void kill4(void **state)
{
    (void)state;
    killed_at("op=crc#3:delay-response=1500", NULL, "executing its last object again",
              APP_LEN - 2 * OBJ);
}

/* 5: second object executed, the third one's CREATE answered late: an empty
 * object is open, EXECUTE answers 0x08 -> created again (§6.4, §6.5). */
static void kill5(void **state)
{
    (void)state;
    killed_at("op=create#4:delay-response=1500", NULL, "creating the object at 8192 again",
              APP_LEN - 2 * OBJ);
}

/* Power cut right after each data EXECUTE (object boundaries).  Without
 * SAVE_PROGRESS the data starts again from 0 while the init packet survives;
 * with it, the host resumes at the last saved object (§6.3, §6.9). */
static void power_cuts(bool save)
{
    const char *pkg = app_pkg();
    for (int k = 1; k <= 3; k++) { /* after objects 1..3; object 4 is the final one */
        char fault[64];
        snprintf(fault, sizeof fault, "after-op=execute#%d:power-cut=50", k + 1);
        dk_test_sim s;
        const char *sa[] = { "--allow-unsigned", "--fault", fault, "--dump-hex", P(2, "flash.hex"),
                             save ? "--save-progress-in-flash" : NULL, NULL };
        sim_start(&s, sa);
        assert_int_equal(host(&s, pkg, P(0, "host.pcap"), NULL), 0);
        if (file_has(host_err, "with a new init packet")) {
            char *e = dk_test_slurp(host_err);
            fail_msg("cut after object %d: the init packet was sent again:\n%s", k, e);
        }
        long sent = bytes_sent();
        if (save)
            assert_int_equal(sent, APP_LEN);             /* resumed where it was cut */
        else
            assert_int_equal(sent, APP_LEN + k * OBJ);   /* data again from 0 */
        dk_test_sim_stop(&s);
        decode_expect(P(0, "host.pcap"), 0);
        expect_flash_holds_app(P(2, "flash.hex"));
    }
}

static void cut_nosave(void **state)
{
    (void)state;
    power_cuts(false);
}

static void cut_save(void **state)
{
    (void)state;
    power_cuts(true);
}

/* Init packet refused (§6.7): dfuhost names the code, exits 1; the capture
 * decodes as failed. */
static void rejected(const char *const pkg_args[], const char *const sim_args[],
                     const char *const want[])
{
    mkpkg(P(3, "bad.zip"), pkg_args);
    dk_test_sim s;
    sim_start(&s, sim_args);
    assert_int_equal(host(&s, P(3, "bad.zip"), P(0, "host.pcap"), NULL), 1);
    for (size_t i = 0; want[i]; i++)
        expect_host_says(want[i]);
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 1);
}

static void reject_hw(void **state)
{
    (void)state;
    const char *pa[] = { "--app", "9000", "--hw-version", "51", NULL };
    const char *sa[] = { "--allow-unsigned", NULL };
    const char *want[] = { "app.dat rejected", "EXT_ERROR HW_VERSION_FAILURE (0x06)",
                           "--hw-version", NULL };
    rejected(pa, sa, want);
}

static void reject_sdreq(void **state)
{
    (void)state;
    /* MBR-only target: sd_req must be empty or start with 0 (§6.7) */
    const char *pa[] = { "--app", "9000", "--sd-req", "0x0100", NULL };
    const char *sa[] = { "--allow-unsigned", NULL };
    const char *want[] = { "EXT_ERROR SD_VERSION_FAILURE (0x07)", "--sd-req", NULL };
    rejected(pa, sa, want);
}

static void reject_downgrade(void **state)
{
    (void)state;
    const char *pa[] = { "--app", "9000", "--fw-version", "3", NULL };
    const char *sa[] = { "--allow-unsigned", "--app-version", "5", NULL };
    const char *want[] = { "EXT_ERROR FW_VERSION_FAILURE (0x05)", "downgrade", NULL };
    rejected(pa, sa, want);
}

static void reject_signature(void **state)
{
    (void)state;
    const char *ka[] = { "--keygen", P(1, "k.pem"), P(2, "pub.pem"), NULL };
    const char *argv[] = { MKPKG, ka[0], ka[1], ka[2], NULL };
    assert_int_equal(dk_test_run(argv, P(5, "kg.out"), P(4, "kg.err"), 30000), 0);
    const char *pa[] = { "--app", "9000", "--key", P(1, "k.pem"), "--break", "sig", NULL };
    const char *sa[] = { "--public-key", P(2, "pub.pem"), NULL };
    const char *want[] = { "INVALID_OBJECT (0x05)", "signature", NULL };
    rejected(pa, sa, want);
}

static void reject_unsigned(void **state)
{
    (void)state;
    const char *ka[] = { "--keygen", P(1, "k.pem"), P(2, "pub.pem"), NULL };
    const char *argv[] = { MKPKG, ka[0], ka[1], ka[2], NULL };
    assert_int_equal(dk_test_run(argv, P(5, "kg.out"), P(4, "kg.err"), 30000), 0);
    const char *pa[] = { "--app", "9000", NULL };
    const char *sa[] = { "--public-key", P(2, "pub.pem"), NULL };
    const char *want[] = { "EXT_ERROR SIGNATURE_MISSING (0x08)", NULL };
    rejected(pa, sa, want);
}

static void reject_size(void **state)
{
    (void)state;
    /* nRF52832: 512 KiB flash, far less free (§7) */
    const char *pa[] = { "--app", "600000", NULL };
    const char *sa[] = { "--allow-unsigned", "--chip", "nrf52832", NULL };
    const char *want[] = { "INSUFFICIENT_RESOURCES (0x04)", "does not fit", NULL };
    rejected(pa, sa, want);
}

/* A signed package against the right key goes through. */
static void signed_ok(void **state)
{
    (void)state;
    const char *ka[] = { "--keygen", P(1, "k.pem"), P(2, "pub.pem"), NULL };
    const char *argv[] = { MKPKG, ka[0], ka[1], ka[2], NULL };
    assert_int_equal(dk_test_run(argv, P(5, "kg.out"), P(4, "kg.err"), 30000), 0);
    char len[32];
    snprintf(len, sizeof len, "%d", APP_LEN);
    const char *pa[] = { "--app", len, "--key", P(1, "k.pem"), NULL };
    mkpkg(P(3, "signed.zip"), pa);
    dk_test_sim s;
    const char *sa[] = { "--public-key", P(2, "pub.pem"), "--dump-hex", P(6, "flash.hex"), NULL };
    sim_start(&s, sa);
    assert_int_equal(host(&s, P(3, "signed.zip"), P(0, "host.pcap"), NULL), 0);
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 0);
    expect_flash_holds_app(P(6, "flash.hex"));
}

/* Bootloader then application (§8.3 send order): after the first final
 * EXECUTE the target resets; dfuhost reopens the port and goes on. */
static void two_images(void **state)
{
    (void)state;
    const char *ka[] = { "--keygen", P(1, "k.pem"), P(2, "pub.pem"), NULL };
    const char *argv[] = { MKPKG, ka[0], ka[1], ka[2], NULL };
    assert_int_equal(dk_test_run(argv, P(5, "kg.out"), P(4, "kg.err"), 30000), 0);
    char len[32];
    snprintf(len, sizeof len, "%d", APP_LEN);
    const char *pa[] = { "--bl", "8192", "--bl-version", "2", "--app", len, "--key", P(1, "k.pem"), NULL };
    mkpkg(P(3, "blapp.zip"), pa);
    dk_test_sim s;
    const char *sa[] = { "--public-key", P(2, "pub.pem"), "--dump-hex", P(6, "flash.hex"), NULL };
    sim_start(&s, sa);
    assert_int_equal(host(&s, P(3, "blapp.zip"), P(0, "host.pcap"), NULL), 0);
    expect_host_says("image 1 of 2: bl.bin");
    expect_host_says("bl.bin accepted by the target");
    expect_host_says("image 2 of 2: app.bin");
    expect_host_says("the target accepted 2 images");
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 0);
    expect_flash_holds_app(P(6, "flash.hex"));
}

/* The final hash check fails (§6.6): named, exit 1. */
static void verify_failed(void **state)
{
    (void)state;
    const char *pa[] = { "--app", "9000", "--break", "hash", NULL };
    mkpkg(P(3, "bad.zip"), pa);
    dk_test_sim s;
    const char *sa[] = { "--allow-unsigned", NULL };
    sim_start(&s, sa);
    /* without --no-check dfuhost refuses the package itself (exit 2) */
    assert_int_equal(host(&s, P(3, "bad.zip"), NULL, NULL), 2);
    const char *ha[] = { "--no-check", NULL };
    assert_int_equal(host(&s, P(3, "bad.zip"), P(0, "host.pcap"), ha), 1);
    expect_host_says("app.bin rejected (OBJECT_EXECUTE): EXT_ERROR VERIFICATION_FAILED (0x0C)");
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 1);
}

/* Lost answers: re-sent after a PING resync, or the attempt starts over from
 * SELECT (data EXECUTE); the update completes. */
static void dropped(void **state)
{
    (void)state;
    const char *pkg = app_pkg();
    dk_test_sim s;
    const char *sa[] = { "--allow-unsigned", "--dump-hex", P(2, "flash.hex"),
                         "--fault", "op=select#2:drop-response",
                         "--fault", "op=crc#2:drop-response",
                         "--fault", "op=execute#3:drop-response",
                         "--fault", "op=create#4:drop-response", NULL };
    sim_start(&s, sa);
    assert_int_equal(host(&s, pkg, P(0, "host.pcap"), NULL), 0);
    expect_host_says("no answer to");
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 0);
    expect_flash_holds_app(P(2, "flash.hex"));
}

/* Late answers: one beyond the response timeout (dropped as stale after a
 * resync), one within it. */
static void delayed(void **state)
{
    (void)state;
    const char *pkg = app_pkg();
    dk_test_sim s;
    const char *sa[] = { "--allow-unsigned", "--dump-hex", P(2, "flash.hex"),
                         "--fault", "op=crc#2:delay-response=800",
                         "--fault", "op=create#3:delay-response=100", NULL };
    sim_start(&s, sa);
    assert_int_equal(host(&s, pkg, P(0, "host.pcap"), NULL), 0);
    expect_host_says("no answer to CRC_GET within 300 ms");
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 0);
    expect_flash_holds_app(P(2, "flash.hex"));
}

/* The answer to the final EXECUTE is lost and the target boots the new app:
 * no success is claimed (exit 1). */
static void final_lost(void **state)
{
    (void)state;
    const char *pkg = app_pkg();
    dk_test_sim s;
    const char *sa[] = { "--allow-unsigned", "--fault", "op=execute#5:drop-response", NULL };
    sim_start(&s, sa);
    assert_int_equal(host(&s, pkg, P(0, "host.pcap"), NULL), 1);
    expect_host_says("unconfirmed");
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 1);
}

/* No bootloader answering: a clear error within --timeout. */
static void silent(void **state)
{
    (void)state;
    const char *pkg = app_pkg();
    dk_test_sim s;
    const char *sa[] = { "--allow-unsigned", "--fault", "op=ping#1+:drop-response", NULL };
    sim_start(&s, sa);
    int64_t t = dk_test_now_ms();
    assert_int_equal(host(&s, pkg, P(0, "host.pcap"), NULL), 1);
    assert_true(dk_test_now_ms() - t < 10000);
    expect_host_says("no answer to PING within 3.0 s");
    dk_test_sim_stop(&s);
}

/* ---- §14.9: power lost while the target stores its settings after the
 * answer to the final EXECUTE ---------------------------------------------- */

/* In a dfusim -vv log, the number of the last settings page erase (the page
 * at 0xFF000 on an nRF52840) before the last "-> OBJECT_EXECUTE -> SUCCESS":
 * the final EXECUTE's settings write, logged before its answer. */
static long final_settings_erase(const char *log)
{
    char *t = dk_test_slurp(log);
    char *last = NULL;
    for (char *p = t; (p = strstr(p, "-> OBJECT_EXECUTE -> SUCCESS")) != NULL; p++)
        last = p;
    assert_non_null(last);
    long n = -1;
    for (char *p = t; (p = strstr(p, "flash op ")) != NULL && p < last; p++) {
        char *e;
        long k = strtol(p + strlen("flash op "), &e, 10);
        if (!strncmp(e, ": erase 0x000FF000", 18))
            n = k;
    }
    free(t);
    assert_true(n > 0);
    return n;
}

/* The last boot in a dfusim log ended in DFU mode (false) or the app (true). */
static bool sim_app_runs(const dk_test_sim *s)
{
    char *t = dk_test_slurp(s->err);
    char *dfu = NULL, *app = NULL;
    for (char *p = t; (p = strstr(p, "in DFU mode")) != NULL; p++)
        dfu = p;
    for (char *p = t; (p = strstr(p, "the app runs (port silent)")) != NULL; p++)
        app = p;
    bool yes = app && (!dfu || app > dfu);
    free(t);
    return yes;
}

static void final_settings_cut(long op_delta, bool verify)
{
    const char *pkg = app_pkg();
    dk_test_sim s;
    const char *ra[] = { "--allow-unsigned", "-vv", NULL };
    sim_start(&s, ra);
    const char *na[] = { "--no-verify", NULL };
    assert_int_equal(host(&s, pkg, NULL, na), 0);
    dk_test_sim_stop(&s);
    char fault[64];
    snprintf(fault, sizeof fault, "flash-op=%ld:power-cut", final_settings_erase(s.err) + op_delta);

    const char *sa[] = { "--allow-unsigned", "--fault", fault, "--dump-hex", P(2, "flash.hex"), NULL };
    sim_start(&s, sa);
    assert_int_equal(host(&s, pkg, P(0, "host.pcap"), verify ? NULL : na), 0);
    expect_host_says("update complete");
    if (!verify) { /* the defect the check is for: success claimed, DFU mode */
        assert_false(sim_app_runs(&s));
        dk_test_sim_stop(&s);
        return;
    }
    expect_host_says("came back in its bootloader still holding its init packet: the update did not take");
    expect_host_says("not executing it again");
    expect_host_says("and left its bootloader");
    assert_false(file_has(host_err, "with a new init packet"));
    assert_true(sim_app_runs(&s));
    dk_test_sim_stop(&s);
    decode_expect(P(0, "host.pcap"), 0);
    expect_flash_holds_app(P(2, "flash.hex"));
}

/* Cut in the settings page's erase, then in its write: the bootloader comes
 * back from the backup of the command EXECUTE; dfuhost sees it and sends
 * the image again; the app boots. */
static void final_cut_page(void **state)
{
    (void)state;
    final_settings_cut(0, true);
    final_settings_cut(1, true);
}

/* The same cut with --no-verify: "update complete", the board in DFU mode. */
static void final_cut_unchecked(void **state)
{
    (void)state;
    final_settings_cut(0, false);
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
        cmocka_unit_test_setup_teardown(complete, setup, teardown),
        cmocka_unit_test_setup_teardown(prn, setup, teardown),
        cmocka_unit_test_setup_teardown(kill1, setup, teardown),
        cmocka_unit_test_setup_teardown(kill2, setup, teardown),
        cmocka_unit_test_setup_teardown(kill3, setup, teardown),
        cmocka_unit_test_setup_teardown(kill4, setup, teardown),
        cmocka_unit_test_setup_teardown(kill5, setup, teardown),
        cmocka_unit_test_setup_teardown(cut_nosave, setup, teardown),
        cmocka_unit_test_setup_teardown(cut_save, setup, teardown),
        cmocka_unit_test_setup_teardown(reject_hw, setup, teardown),
        cmocka_unit_test_setup_teardown(reject_sdreq, setup, teardown),
        cmocka_unit_test_setup_teardown(reject_downgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(reject_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(reject_unsigned, setup, teardown),
        cmocka_unit_test_setup_teardown(reject_size, setup, teardown),
        cmocka_unit_test_setup_teardown(signed_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(two_images, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(delayed, setup, teardown),
        cmocka_unit_test_setup_teardown(final_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(silent, setup, teardown),
        cmocka_unit_test_setup_teardown(final_cut_page, setup, teardown),
        cmocka_unit_test_setup_teardown(final_cut_unchecked, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return dk_suite_run(argc, argv, all, NULL, NULL);
}
