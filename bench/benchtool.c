/* benchtool - the two measuring helpers bench/decode.sh needs.
 *
 *   benchtool crc FILE        the baseline: read FILE in 256 KiB blocks and
 *                             run zlib's crc32 over every byte; prints it
 *   benchtool run CMD ARG...  run CMD with stdout to /dev/null; print
 *                             "wall_s maxrss_kib exit_status" on stderr
 *
 * Built by decode.sh with cc; not part of the library or the tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static int crc_file(const char *path)
{
    static unsigned char buf[256 * 1024];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "benchtool: %s: %s\n", path, strerror(errno));
        return 2;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "benchtool: %s: %s\n", path, strerror(errno));
            close(fd);
            return 2;
        }
        if (n == 0)
            break;
        crc = crc32(crc, buf, (uInt)n);
        total += (unsigned long long)n;
    }
    close(fd);
    printf("%llu bytes crc32 %08lx\n", total, crc);
    return 0;
}

static int run(char **argv)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid < 0) {
        perror("benchtool: fork");
        return 2;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2(fd, 1);
        execvp(argv[0], argv);
        fprintf(stderr, "benchtool: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0) {
        perror("benchtool: wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double wall = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    fprintf(stderr, "%.6f %ld %d\n", wall, ru.ru_maxrss, code);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "crc") == 0)
        return crc_file(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "run") == 0)
        return run(argv + 2);
    fprintf(stderr, "usage: benchtool crc FILE | benchtool run CMD [ARG...]\n");
    return 2;
}
