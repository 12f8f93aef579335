/* test_lgmaster.c - dfuhost's legacy master (host/lgmaster.h) against
 * dfusim's legacy bootloader core on a virtual line (tests/support/lg_line.h):
 * a complete update; a rerun after an interrupted session without a reset
 * (§13.12); lost ACKs; a refused init packet; a device that never answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/crc.h"
#include "dfukit/legacy.h"
#include "lg_line.h"
#include "lgmaster.h"

static uint8_t img[20000];
static uint8_t dat[32];
static size_t dat_len;
static unsigned notes;

static void on_ev(void *ctx, const dh_event *ev)
{
    (void)ctx;
    notes += ev->kind == DH_EV_NOTE;
    if (getenv("LGDEBUG") && ev->text)
        fprintf(stderr, "%d %s\n", ev->kind, ev->text);
}

static dh_lg_image image(uint16_t type, size_t size)
{
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 11 + 1);
    dk_lg_init in = { .device_type = type, .device_rev = 0xFFFF, .app_version = 1, .n_sd_req = 1,
                      .sd_req = { 0xFFFE }, .version = 5,
                      .crc16 = dk_crc16_ccitt(DK_CRC16_INIT, img, size) };
    dat_len = dk_lg_init_encode(&in, dat, sizeof dat);
    dh_lg_image im = { .bin_name = "app.bin", .bin = img, .bin_len = size, .dat = dat,
                       .dat_len = dat_len, .mode = DK_LG_MODE_APP };
    return im;
}

static dh_status run(lg_line *l, const dh_lg_image *im, dh_result *res)
{
    dh_lg_opts o;
    dh_lg_opts_default(&o);
    o.on_event = on_ev;
    dh_io io = lgl_io(l);
    notes = 0;
    return dh_lg_run(&o, &io, im, 1, res);
}

static bool landed(lg_line *l, size_t n)
{
    return ds_lg_app_valid(l->lg) && !memcmp(ds_flash_mem(l->fl) + ds_lg_bank0(l->lg), img, n);
}

static void complete(void **state)
{
    (void)state;
    ds_lg_config c;
    ds_lg_config_default(&c, "nrf52840");
    lg_line l;
    lgl_open(&l, &c);
    dh_lg_image im = image(0x52, 20000);
    dh_result res;
    assert_int_equal(run(&l, &im, &res), DH_OK);
    assert_true(landed(&l, 20000));
    assert_int_equal(notes, 0);
    assert_true(l.ms >= 500); /* it waited for the erase */
    lgl_close(&l);
}

/* An earlier run stopped after START, INIT and N DATA; no reset since.  For
 * every N mod 8 (every number the device can expect) the master finds its
 * way and the image lands. */
static void rerun_after_interrupted_session(void **state)
{
    (void)state;
    for (int n = 8; n < 16; n++) {
        ds_lg_config c;
        ds_lg_config_default(&c, "nrf52840");
        lg_line l;
        lgl_open(&l, &c);
        dh_lg_image im = image(0x52, 20000);
        dh_result res;
        /* a run cut short: START, INIT, n DATA */
        uint8_t seq = 1;
        uint8_t pl[700], p[720], f[1500];
        uint8_t s[DK_LG_START_LEN];
        dk_lg_encode_start(DK_LG_MODE_APP, 0, 0, 20000, s);
        size_t k = dk_hci_encode(seq++, s, sizeof s, p);
        lgl_put(&l, f, dk_hci_frame(p, k, f));
        uint8_t d[40];
        memcpy(d, dat, dat_len);
        d[dat_len] = d[dat_len + 1] = 0;
        k = dk_lg_encode(DK_LG_INIT, d, dat_len + 2, pl);
        k = dk_hci_encode(seq++, pl, k, p);
        lgl_put(&l, f, dk_hci_frame(p, k, f));
        for (int i = 0; i < n; i++) {
            k = dk_lg_encode(DK_LG_DATA, img + 512 * i, 512, pl);
            k = dk_hci_encode(seq++ & 7, pl, k, p);
            lgl_put(&l, f, dk_hci_frame(p, k, f));
        }
        assert_int_equal(ds_lg_expected(l.lg), (n + 3) & 7);
        l.ra = l.na;
        dh_status st = run(&l, &im, &res);
        if (st != DH_OK)
            fail_msg("n=%d: %s", n, res.msg);
        assert_true(landed(&l, 20000));
        assert_true(notes >= 1); /* it told what it did */
        lgl_close(&l);
    }
}

static void lost_acks(void **state)
{
    (void)state;
    ds_lg_config c;
    ds_lg_config_default(&c, "nrf52840");
    lg_line l;
    lgl_open(&l, &c);
    dh_lg_image im = image(0x52, 20000);
    l.drop_acks = 2; /* START's ACK, then its resend's: a third try is taken */
    dh_result res;
    assert_int_equal(run(&l, &im, &res), DH_OK);
    assert_true(landed(&l, 20000));
    assert_int_equal(notes, 2);
    lgl_close(&l);
}

static void refused_and_silent(void **state)
{
    (void)state;
    ds_lg_config c;
    ds_lg_config_default(&c, "nrf52840");
    lg_line l;
    lgl_open(&l, &c);
    dh_lg_image im = image(0xFFFF, 4096);
    dh_result res;
    assert_int_equal(run(&l, &im, &res), DH_FAILED);
    assert_non_null(strstr(res.msg, "refused it"));
    assert_non_null(strstr(res.msg, "0x0052"));
    lgl_close(&l);
    /* the app runs and ignores the port: no ACK at all */
    c.app_size = 4096;
    lgl_open(&l, &c);
    im = image(0x52, 4096);
    assert_int_equal(run(&l, &im, &res), DH_FAILED);
    assert_non_null(strstr(res.msg, "no ACK"));
    assert_int_equal(l.packets, 0);
    lgl_close(&l);
    /* an init packet the bootloader cannot hold */
    lgl_open(&l, &c);
    im.dat_len = 127;
    assert_int_equal(run(&l, &im, &res), DH_FAILED);
    assert_non_null(strstr(res.msg, "at most"));
    lgl_close(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(complete),
        cmocka_unit_test(rerun_after_interrupted_session),
        cmocka_unit_test(lost_acks),
        cmocka_unit_test(refused_and_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
