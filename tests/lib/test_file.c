/* test_file.c - dk_file_create (file.h), the one way the tools create what
 * they write: never through a symlink (one to a file, a dangling one), a new
 * file 0600 under any umask, an existing file truncated with its mode kept
 * (or kept whole: DK_FILE_KEEP), directories, FIFOs and devices refused
 * unless the caller takes a stream, and in a shared (sticky) directory a
 * file of someone else's or with another hard link refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dfukit/file.h"
#include "dk_test.h"

static char g_dir[256];

static const char *in_dir(const char *name)
{
    static char ring[4][512];
    static unsigned k;
    k = (k + 1) % 4;
    return dk_test_path(ring[k], sizeof ring[k], g_dir, name);
}

static void put(const char *path, const char *text)
{
    assert_int_equal(dk_test_write_file(path, text, strlen(text)), 0);
}

static char *get(const char *path)
{
    size_t n;
    char *t = (char *)dk_test_read_file(path, &n);
    assert_non_null(t);
    return t;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* dk_file_create must refuse path with status st and a message holding
 * needle. */
static void refused(const char *path, unsigned flags, dk_status st, const char *needle)
{
    dk_err e = { 0 };
    int fd = dk_file_create(path, flags, &e);
    if (fd >= 0)
        fail_msg("%s: opened, expected \"%s\"", path, needle);
    assert_int_equal(e.status, st);
    if (!strstr(e.msg, needle))
        fail_msg("%s: \"%s\" lacks \"%s\"", path, e.msg, needle);
}

static void write_text(int fd, const char *text)
{
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
}

static void test_new_file_0600_any_umask(void **state)
{
    (void)state;
    static const mode_t masks[] = { 0, 022, 077, 0277, 0777 };
    for (size_t i = 0; i < sizeof masks / sizeof *masks; i++) {
        char name[32];
        snprintf(name, sizeof name, "new%zu", i);
        mode_t old = umask(masks[i]);
        dk_err e = { 0 };
        int fd = dk_file_create(in_dir(name), 0, &e);
        umask(old);
        if (fd < 0)
            fail_msg("umask %03o: %s", (unsigned)masks[i], e.msg);
        write_text(fd, "x");
        if (mode_of(in_dir(name)) != 0600)
            fail_msg("umask %03o: mode %04o, want 0600", (unsigned)masks[i], (unsigned)mode_of(in_dir(name)));
    }
}

static void test_existing_file_overwritten(void **state)
{
    (void)state;
    char p[600];
    snprintf(p, sizeof p, "%s", in_dir("old"));
    put(p, "a long old content");
    assert_int_equal(chmod(p, 0640), 0);
    dk_err e = { 0 };
    write_text(dk_file_create(p, 0, &e), "new");
    char *t = get(p);
    assert_string_equal(t, "new"); /* truncated, not written over the start */
    free(t);
    assert_int_equal(mode_of(p), 0640); /* its mode kept */

    /* KEEP: read-write, contents kept */
    int fd = dk_file_create(p, DK_FILE_KEEP, &e);
    assert_true(fd >= 0);
    char b[8] = "";
    assert_int_equal(read(fd, b, sizeof b), 3);
    assert_memory_equal(b, "new", 3);
    close(fd);
    /* KEEP on a new file: 0600 too */
    mode_t old = umask(0);
    fd = dk_file_create(in_dir("kept"), DK_FILE_KEEP, &e);
    umask(old);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mode_of(in_dir("kept")), 0600);
}

static void test_symlinks_refused(void **state)
{
    (void)state;
    char target[600];
    snprintf(target, sizeof target, "%s", in_dir("victim"));
    put(target, "precious");
    assert_int_equal(chmod(target, 0644), 0);
    assert_int_equal(symlink(target, in_dir("link")), 0);
    static const unsigned flags[] = { 0, DK_FILE_STREAM, DK_FILE_KEEP };
    for (size_t i = 0; i < 3; i++)
        refused(in_dir("link"), flags[i], DK_E_USAGE, "is a symbolic link: not writing through it");
    char *t = get(target);
    assert_string_equal(t, "precious");
    free(t);
    assert_int_equal(mode_of(target), 0644);
    /* a dangling link: its target is not created */
    assert_int_equal(symlink(in_dir("nowhere"), in_dir("dangling")), 0);
    refused(in_dir("dangling"), 0, DK_E_USAGE, "symbolic link");
    assert_int_equal(access(in_dir("nowhere"), F_OK), -1);
    /* a link to a directory */
    assert_int_equal(symlink(g_dir, in_dir("dirlink")), 0);
    refused(in_dir("dirlink"), 0, DK_E_USAGE, "symbolic link");
}

static void test_other_types(void **state)
{
    (void)state;
    assert_int_equal(mkdir(in_dir("d"), 0700), 0);
    refused(in_dir("d"), 0, DK_E_USAGE, "is a directory");
    refused(in_dir("d"), DK_FILE_STREAM, DK_E_USAGE, "is a directory");
    refused(in_dir("no/such/dir"), 0, DK_E_IO, "cannot create: No such file");
    if (access("/dev/null", W_OK) == 0) {
        refused("/dev/null", 0, DK_E_USAGE, "is not a regular file");
        dk_err e = { 0 };
        write_text(dk_file_create("/dev/null", DK_FILE_STREAM, &e), "gone");
    }
    /* a FIFO: refused at once without a reader (no hang), and with one */
    char f[600];
    snprintf(f, sizeof f, "%s", in_dir("fifo"));
    assert_int_equal(mkfifo(f, 0600), 0);
    refused(f, 0, DK_E_USAGE, "is a FIFO, not a regular file");
    int rd = open(f, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    refused(f, 0, DK_E_USAGE, "is a FIFO, not a regular file");
    refused(f, DK_FILE_KEEP, DK_E_USAGE, "is a FIFO");
    /* taken as a stream: the bytes reach the reader */
    dk_err e = { 0 };
    write_text(dk_file_create(f, DK_FILE_STREAM, &e), "pcap");
    char b[8] = "";
    assert_int_equal(read(rd, b, sizeof b), 4);
    assert_memory_equal(b, "pcap", 4);
    close(rd);
    /* and without a reader yet, the open waits for one */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        usleep(200 * 1000);
        int r = open(f, O_RDONLY);
        char c[4];
        _exit(r >= 0 && read(r, c, sizeof c) == 2 && !memcmp(c, "ok", 2) ? 0 : 1);
    }
    write_text(dk_file_create(f, DK_FILE_STREAM, &e), "ok");
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A sticky directory writable by all, like /tmp: what someone else put
 * there is not written into. */
static void test_shared_directory(void **state)
{
    (void)state;
    char sh[600];
    snprintf(sh, sizeof sh, "%s", in_dir("shared"));
    assert_int_equal(mkdir(sh, 0700), 0);
    assert_int_equal(chmod(sh, 01777), 0);
    char p[1024], q[1024];
    dk_err e = { 0 };
    /* ours: overwritten as anywhere */
    dk_test_path(p, sizeof p, sh, "mine");
    put(p, "old");
    write_text(dk_file_create(p, 0, &e), "new");
    /* a second hard link to one of our files (one planted to clobber it) */
    dk_test_path(q, sizeof q, sh, "alias");
    assert_int_equal(link(p, q), 0);
    refused(q, 0, DK_E_USAGE, "has 2 hard links: not writing into it");
    char *t = get(p);
    assert_string_equal(t, "new");
    free(t);
    /* someone else's file (root can make one to try) */
    dk_test_path(p, sizeof p, sh, "theirs");
    put(p, "bait");
    if (chown(p, 12345, 12345) != 0) {
        print_message("not root: the someone-else's-file case is not tried\n");
        return;
    }
    refused(p, 0, DK_E_USAGE, "belongs to uid 12345, not to us: not writing into it");
    t = get(p);
    assert_string_equal(t, "bait");
    free(t);
    /* outside a shared directory the same file is overwritten (tcpdump's way) */
    dk_test_path(q, sizeof q, g_dir, "theirs-private");
    put(q, "x");
    assert_int_equal(chown(q, 12345, 12345), 0);
    write_text(dk_file_create(q, 0, &e), "y");
}

static void test_fopen(void **state)
{
    (void)state;
    dk_err e = { 0 };
    FILE *f = dk_file_fopen(in_dir("s.txt"), 0, &e);
    assert_non_null(f);
    fputs("hello\n", f);
    assert_int_equal(fclose(f), 0);
    f = dk_file_fopen(in_dir("s.txt"), DK_FILE_KEEP, &e);
    assert_non_null(f);
    char b[16];
    assert_non_null(fgets(b, sizeof b, f));
    assert_string_equal(b, "hello\n");
    fclose(f);
    assert_int_equal(symlink(in_dir("s.txt"), in_dir("s.lnk")), 0);
    assert_null(dk_file_fopen(in_dir("s.lnk"), 0, &e));
    assert_true(strstr(e.msg, "symbolic link") != NULL);
}

static int setup(void **state)
{
    (void)state;
    return dk_test_tmpdir(g_dir, sizeof g_dir);
}

static int teardown(void **state)
{
    (void)state;
    dk_test_rmtree(g_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file_0600_any_umask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_file_overwritten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
