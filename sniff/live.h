/* live.h - dfusniff --live: the chunks dfusniff captures, handed to lib's
 * decoding pipeline (the transcript dfudecode prints) as they arrive. */
#ifndef DFUSNIFF_LIVE_H
#define DFUSNIFF_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/msg.h"

typedef struct sn_live sn_live;

/* NULL with one line in err when the transcript cannot be set up. */
sn_live *sn_live_new(FILE *out, int verbose, char *err, size_t cap);
void sn_live_feed(sn_live *l, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len);
/* Print what is pending and the closing summary. */
void sn_live_finish(sn_live *l);
void sn_live_free(sn_live *l);

#endif
