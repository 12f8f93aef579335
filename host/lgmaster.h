/* lgmaster.h - the legacy DFU master: sends a package's images to an
 * Adafruit nRF52 / SDK 11 bootloader over HCI serial DFU (protocol.md §9,
 * §13), over the same abstract transport as the Secure DFU master (master.h).
 * Pure: time comes from the transport.
 *
 * Per image, as adafruit-nrfutil does it (§13.13), but checking every ACK:
 *
 *   NOP                the ACK says which number the device expects (§13.4)
 *   START mode sizes   then wait for the erase (max(0.5 s, pages x 89.7 ms))
 *   INIT .dat 00 00
 *   DATA 512 bytes ... (a 102.4 ms pause after DATA 0, 8, 16, ... and the last)
 *   STOP               the bootloader validates and activates
 *
 * Each packet is framed C0 escaped(hci) C0 and waits for its ACK:
 *   ACK seq+1                accepted
 *   no ACK in rsp_ms         sent again with the same number (a packet the
 *                            device already took is acknowledged and dropped:
 *                            resending is safe, §13.4), up to retries times
 *   ACK n, another number    the device dropped it: it reset meanwhile (a
 *                            START it took while an earlier session was
 *                            still open, §13.6, §13.12).  The master starts
 *                            the image again from the NOP.
 * An ACK says only which number the device expects next, so "taken" and
 * "dropped" look alike when the device expected seq + 1: the NOP before
 * START removes that doubt (see try_image).
 *   port gone                reopened (io->reopen), the image started again
 */
#ifndef DFUHOST_LGMASTER_H
#define DFUHOST_LGMASTER_H

#include <stddef.h>
#include <stdint.h>

#include "dfukit/pkg.h"
#include "master.h"

typedef struct {
    const char *bin_name;
    const uint8_t *bin;
    size_t bin_len;
    const uint8_t *dat;
    size_t dat_len;
    uint32_t mode;           /* legacy.h DK_LG_MODE_* */
    uint32_t sd_size, bl_size; /* SD+BL: how the .bin splits */
} dh_lg_image;

typedef struct {
    uint32_t ack_ms;         /* wait for one ACK (1000) */
    unsigned retries;        /* re-sends of one unacknowledged packet (3) */
    unsigned max_restarts;   /* image restarts after a dropped packet (4) */
    uint32_t erase_ms_per_page_x10; /* erase wait per 4 KiB page, in 0.1 ms (897) */
    uint32_t page_pause_ms;  /* after every 8th DATA (102); 0: none */
    uint32_t boot_ms;        /* after a device reset, before starting over (1500) */
    bool trace;              /* DH_EV_TX / DH_EV_RX per packet */
    void (*on_event)(void *ctx, const dh_event *ev);
    void *ev_ctx;
} dh_lg_opts;

void dh_lg_opts_default(dh_lg_opts *o);

/* The images of a package (adafruit-nrfutil genpkg) in send order; modes
 * from the manifest keys.  Returns the count. */
size_t dh_lg_images(const dk_pkg *pkg, dh_lg_image *out);

/* Send every image.  res->msg says why on DH_FAILED. */
dh_status dh_lg_run(const dh_lg_opts *o, const dh_io *io, const dh_lg_image *imgs, size_t n,
                    dh_result *res);

#endif
