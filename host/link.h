/* link.h - the master's transport on a real line: SLIP framing over a
 * dk_serial line (lib serial.h), outgoing frames batched until the master
 * waits for an answer, and every byte that crosses the line recorded in a
 * capture (lib capfile) when asked.
 *
 *   master --frames--> link --SLIP bytes--> port   (capture: TX packets)
 *   master <--frames-- link <--SLIP bytes-- port   (capture: RX packets)
 */
#ifndef DFUHOST_LINK_H
#define DFUHOST_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "dfukit/capfile.h"
#include "dfukit/err.h"
#include "dfukit/serial.h"
#include "dfukit/slip.h"
#include "master.h"

typedef struct {
    const char *path;
    unsigned baud;
    bool flow;
    dk_serial *port;
    dk_cap_writer *cap;      /* NULL: no capture */
    dk_slip_dec dec;
    uint8_t dec_buf[DH_FRAME_MAX];
    struct { uint8_t *b; size_t len; } q[32]; /* decoded frames not yet taken */
    size_t qhead, qn;
    uint8_t qstore[32][DH_FRAME_MAX / 4];
    uint8_t out[16384];      /* SLIP bytes not yet written */
    size_t out_len;
    unsigned anomalies;      /* framing anomalies seen (bad escapes, overlong) */
    dk_err err;              /* why the port failed */
    void (*on_anomaly)(void *ctx, const char *text);
    void *ctx;
} dh_link;

/* Open the port.  cap (may be NULL) receives the traffic; the link closes it. */
dk_status dh_link_open(dh_link *l, const char *path, unsigned baud, bool flow,
                       dk_cap_writer *cap, dk_err *err);
void dh_link_close(dh_link *l);

/* The dh_io the master drives. */
dh_io dh_link_io(dh_link *l);

#endif
