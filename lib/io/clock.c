/* clock.c - the wall clock, in microseconds (capfile.h dk_now_us). */
#include <time.h>

#include "dfukit/capfile.h"

int64_t dk_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
