/* file.c - creating the files the tools write (see file.h). */
#include "dfukit/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory path lies in: sticky and writable by others ("shared"), and
 * its owner.  false when it cannot be looked at (the open will say why). */
static bool dir_of(const char *path, bool *shared, uid_t *owner)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return false;
    struct stat st;
    bool ok = stat(dir, &st) == 0;
    free(dir);
    if (!ok)
        return false;
    *shared = (st.st_mode & S_ISVTX) && (st.st_mode & (S_IWGRP | S_IWOTH));
    *owner = st.st_uid;
    return true;
}

static int refuse(int fd, dk_err *err, dk_status st, const char *msg)
{
    if (fd >= 0)
        close(fd);
    dk_err_set(err, st, -1, "%s", msg);
    return -1;
}

/* An open that failed: say why in the words of file.h. */
static int open_failed(const char *path, unsigned flags, dk_err *err)
{
    int e = errno;
    struct stat st;
    bool seen = lstat(path, &st) == 0;
    if (seen && S_ISLNK(st.st_mode))
        return refuse(-1, err, DK_E_USAGE, "is a symbolic link: not writing through it");
    if (e == EISDIR || (seen && S_ISDIR(st.st_mode)))
        return refuse(-1, err, DK_E_USAGE, "is a directory");
    if (seen && S_ISFIFO(st.st_mode) && !(flags & DK_FILE_STREAM))
        return refuse(-1, err, DK_E_USAGE, "is a FIFO, not a regular file");
    errno = e;
    dk_err_set(err, DK_E_IO, -1, "cannot create: %s", strerror(e));
    return -1;
}

int dk_file_create(const char *path, unsigned flags, dk_err *err)
{
    /* Non-blocking first: a FIFO without a reader must not hang a tool that
     * does not want one.  O_CREAT on the second try too, so the kernel's
     * protected_regular and protected_fifos checks still apply. */
    int base = ((flags & DK_FILE_KEEP) ? O_RDWR : O_WRONLY) | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
    bool created = true;
    int fd = open(path, base | O_NONBLOCK | O_CREAT | O_EXCL, 0600);
    if (fd < 0 && errno == EEXIST) {
        created = false;
        fd = open(path, base | O_NONBLOCK | O_CREAT, 0600);
        if (fd < 0 && errno == ENXIO && (flags & DK_FILE_STREAM))
            fd = open(path, base | O_CREAT, 0600); /* a FIFO: wait for its reader */
    }
    if (fd < 0)
        return open_failed(path, flags, err);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return refuse(fd, err, DK_E_IO, "cannot create: fstat failed");
    if (S_ISDIR(st.st_mode))
        return refuse(fd, err, DK_E_USAGE, "is a directory");
    if (S_ISFIFO(st.st_mode) && !(flags & DK_FILE_STREAM))
        return refuse(fd, err, DK_E_USAGE, "is a FIFO, not a regular file");
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !(S_ISCHR(st.st_mode) && (flags & DK_FILE_STREAM)))
        return refuse(fd, err, DK_E_USAGE, "is not a regular file");
    bool shared = false;
    uid_t downer = 0;
    if (!created && dir_of(path, &shared, &downer) && shared) {
        char why[96] = "";
        if (st.st_uid != geteuid() && st.st_uid != downer)
            snprintf(why, sizeof why, "belongs to uid %lu, not to us: not writing into it",
                     (unsigned long)st.st_uid);
        else if (S_ISREG(st.st_mode) && st.st_nlink > 1)
            snprintf(why, sizeof why, "has %lu hard links: not writing into it", (unsigned long)st.st_nlink);
        if (why[0])
            return refuse(fd, err, DK_E_USAGE, why);
    }
    if (created && fchmod(fd, 0600) != 0) /* the umask may have taken bits away */
        return refuse(fd, err, DK_E_IO, "cannot set mode 0600");
    if (S_ISREG(st.st_mode) && !created && !(flags & DK_FILE_KEEP) && ftruncate(fd, 0) != 0) {
        int e = errno;
        close(fd);
        dk_err_set(err, DK_E_IO, -1, "cannot truncate: %s", strerror(e));
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return refuse(fd, err, DK_E_IO, "cannot create: fcntl failed");
    return fd;
}

FILE *dk_file_fopen(const char *path, unsigned flags, dk_err *err)
{
    int fd = dk_file_create(path, flags, err);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, (flags & DK_FILE_KEEP) ? "r+b" : "wb");
    if (!f) {
        int e = errno;
        close(fd);
        dk_err_set(err, DK_E_NOMEM, -1, "cannot create: %s", strerror(e));
    }
    return f;
}
