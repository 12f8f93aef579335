/* live.c - placeholder until decode/ exposes its printer as a library. */
#include "live.h"

sn_live *sn_live_new(FILE *out, int verbose, char *err, size_t cap)
{
    (void)out;
    (void)verbose;
    snprintf(err, cap, "the live transcript is not available in this build");
    return NULL;
}
void sn_live_feed(sn_live *l, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len)
{
    (void)l, (void)t_us, (void)dir, (void)data, (void)len;
}
void sn_live_finish(sn_live *l) { (void)l; }
void sn_live_free(sn_live *l) { (void)l; }
