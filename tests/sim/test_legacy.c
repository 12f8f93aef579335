/* test_legacy.c - dfusim's legacy bootloader core (sim/legacy.h) against
 * protocol.md §13: SLIP with a leading END, ACKs and sequence rules, the DFU
 * packets, init checks, flash and settings, the touch, timers, the queue,
 * power cuts, dual bank, and the §13.12 defect with and without the fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/crc.h"
#include "dfukit/legacy.h"
#include "lg_line.h"

static uint8_t img[9000];

static void frame_pkt(lg_line *l, uint8_t seq, uint32_t kind, const uint8_t *body, size_t len)
{
    uint8_t pl[700], p[720], f[1500];
    size_t n = dk_lg_encode(kind, body, len, pl);
    n = dk_hci_encode(seq, pl, n, p);
    n = dk_hci_frame(p, n, f);
    lgl_put(l, f, n);
}

/* The last ACK's number, -1 none since the last call. */
static int last_ack(lg_line *l)
{
    if (l->ra == l->na)
        return -1;
    uint8_t e;
    assert_true(dk_hci_is_ack(l->acks[(l->na - 1) % 64] + 1, 4, &e));
    l->ra = l->na;
    return e;
}

static void start_pkt(lg_line *l, uint8_t seq, uint32_t mode, uint32_t size)
{
    uint8_t s[DK_LG_START_LEN];
    dk_lg_encode_start(mode, mode == DK_LG_MODE_SD ? size : 0, 0, mode == DK_LG_MODE_APP ? size : 0, s);
    frame_pkt(l, seq, DK_LG_START, s + 4, 16);
}

static void init_pkt(lg_line *l, uint8_t seq, uint16_t type, uint16_t sd, size_t size)
{
    dk_lg_init in = { .device_type = type, .device_rev = 0xFFFF, .app_version = 1, .n_sd_req = 1,
                      .sd_req = { sd }, .version = 5,
                      .crc16 = dk_crc16_ccitt(DK_CRC16_INIT, img, size) };
    uint8_t d[32];
    size_t n = dk_lg_init_encode(&in, d, sizeof d);
    d[n] = d[n + 1] = 0;
    frame_pkt(l, seq, DK_LG_INIT, d, n + 2);
}

/* START, INIT, DATA... (stop after `data` packets; all: STOP too).  Returns
 * the next sequence number. */
static uint8_t session(lg_line *l, uint8_t seq, size_t size, int data)
{
    start_pkt(l, seq++, DK_LG_MODE_APP, (uint32_t)size);
    init_pkt(l, seq++ & 7, 0x52, 0xFFFE, size);
    size_t chunks = (size + 511) / 512;
    for (size_t i = 0; i < chunks && (data < 0 || (int)i < data); i++) {
        size_t k = size - i * 512 < 512 ? size - i * 512 : 512;
        frame_pkt(l, seq++ & 7, DK_LG_DATA, img + i * 512, k);
    }
    if (data < 0)
        frame_pkt(l, seq++ & 7, DK_LG_STOP, NULL, 0);
    return seq & 7;
}

static void cfg840(ds_lg_config *c)
{
    ds_lg_config_default(c, "nrf52840");
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7 + 3);
}

static bool bank0_holds(lg_line *l, size_t n)
{
    return !memcmp(ds_flash_mem(l->fl) + ds_lg_bank0(l->lg), img, n);
}

static void complete_update(void **state)
{
    (void)state;
    ds_lg_config c;
    cfg840(&c);
    lg_line l;
    lgl_open(&l, &c);
    assert_true(ds_lg_in_dfu(l.lg)); /* no valid app: DFU mode */
    assert_int_equal(ds_lg_expected(l.lg), 1);
    assert_int_equal(ds_lg_bank0(l.lg), 0x26000);
    session(&l, 1, 9000, -1);
    assert_int_equal(last_ack(&l), (1 + 2 + 18 + 1) & 7);
    assert_true(l.flags & DS_LG_APP); /* activated: the app runs at once */
    assert_false(ds_lg_in_dfu(l.lg));
    assert_true(bank0_holds(&l, 9000));
    assert_true(ds_lg_app_valid(l.lg));
    ds_lg_settings s;
    ds_lg_settings_read(l.lg, &s);
    assert_int_equal(s.bank_0, DS_LG_BANK_VALID_APP);
    assert_int_equal(s.bank_0_crc, 0);
    assert_int_equal(s.bank_0_size, 9000 & ~3u);
    lgl_close(&l);
}

static void slip_and_sequence(void **state)
{
    (void)state;
    ds_lg_config c;
    cfg840(&c);
    lg_line l;
    lgl_open(&l, &c);
    uint8_t s[DK_LG_START_LEN], p[40], f[90];
    dk_lg_encode_start(DK_LG_MODE_APP, 0, 0, 4096, s);
    size_t n = dk_hci_encode(1, s, sizeof s, p);
    size_t fn = dk_hci_frame(p, n, f);
    lgl_put(&l, f + 1, fn - 1); /* no leading END: lost, its END arms the next */
    assert_int_equal(l.packets, 0);
    p[8] ^= 1; /* bad CRC16: no ACK */
    fn = dk_hci_frame(p, n, f);
    lgl_put(&l, f, fn);
    assert_int_equal(l.packets, 1);
    assert_int_equal(last_ack(&l), -1);
    frame_pkt(&l, 3, DK_LG_STOP, NULL, 0); /* wrong number: dropped, acknowledged */
    assert_int_equal(last_ack(&l), 1);
    start_pkt(&l, 1, DK_LG_MODE_APP, 4096);
    assert_int_equal(last_ack(&l), 2);
    start_pkt(&l, 1, DK_LG_MODE_APP, 4096); /* a repeat: dropped, acknowledged */
    assert_int_equal(last_ack(&l), 2);
    assert_int_equal(l.flags, 0);
    /* kind 0: acknowledged, then freed */
    frame_pkt(&l, 2, 0, NULL, 0);
    assert_int_equal(last_ack(&l), 3);
    assert_int_equal(ds_lg_queued(l.lg), 0);
    assert_string_equal(ds_lg_state_name(l.lg), "RDY");
    lgl_close(&l);
}

static void refusals_reset(void **state)
{
    (void)state;
    ds_lg_config c;
    cfg840(&c);
    lg_line l;
    /* device type 0xFFFF: the INIT is acknowledged, then the chip resets */
    lgl_open(&l, &c);
    start_pkt(&l, 1, DK_LG_MODE_APP, 4096);
    init_pkt(&l, 2, 0xFFFF, 0xFFFE, 4096);
    assert_int_equal(last_ack(&l), 3);
    assert_true(l.flags & DS_LG_RESET);
    assert_int_equal(ds_lg_expected(l.lg), 1);
    assert_int_equal(ds_lg_boots(l.lg), 2);
    lgl_close(&l);
    /* sd_req without the installed FWID (0xB6) */
    lgl_open(&l, &c);
    start_pkt(&l, 1, DK_LG_MODE_APP, 4096);
    init_pkt(&l, 2, 0x52, 0x0001, 4096);
    assert_true(l.flags & DS_LG_RESET);
    lgl_close(&l);
    /* a second START while a session is open */
    lgl_open(&l, &c);
    start_pkt(&l, 1, DK_LG_MODE_APP, 4096);
    start_pkt(&l, 2, DK_LG_MODE_APP, 4096);
    assert_true(l.flags & DS_LG_RESET);
    lgl_close(&l);
    /* a size that is not whole words; too big for the bank */
    lgl_open(&l, &c);
    start_pkt(&l, 1, DK_LG_MODE_APP, 4095);
    assert_true(l.flags & DS_LG_RESET);
    l.flags = 0;
    start_pkt(&l, 1, DK_LG_MODE_APP, 0x100000);
    assert_true(l.flags & DS_LG_RESET);
    lgl_close(&l);
    /* a wrong CRC16: STOP validates nothing, the device stays in DFU mode */
    lgl_open(&l, &c);
    start_pkt(&l, 1, DK_LG_MODE_APP, 1024);
    dk_lg_init in = { .device_type = 0x52, .n_sd_req = 1, .sd_req = { 0xFFFE }, .version = 5, .crc16 = 1 };
    uint8_t d[32];
    size_t n = dk_lg_init_encode(&in, d, sizeof d);
    d[n] = d[n + 1] = 0;
    frame_pkt(&l, 2, DK_LG_INIT, d, n + 2);
    frame_pkt(&l, 3, DK_LG_DATA, img, 512);
    frame_pkt(&l, 4, DK_LG_DATA, img + 512, 512);
    frame_pkt(&l, 5, DK_LG_STOP, NULL, 0);
    assert_int_equal(l.flags, 0);
    assert_true(ds_lg_in_dfu(l.lg));
    assert_string_equal(ds_lg_state_name(l.lg), "VALIDATE");
    assert_false(ds_lg_app_valid(l.lg));
    lgl_close(&l);
}

/* §13.12, and --legacy-seq-fix.  The first packet of the new run the
 * device takes is DATA j = N mod 8 (N: DATA packets the old run got in),
 * written at the old offset N x 512: for N >= 8 the wrong bytes. */
static void stale_sequence(void **state)
{
    (void)state;
    for (int fix = 0; fix < 2; fix++) {
        ds_lg_config c;
        cfg840(&c);
        c.seq_fix = fix;
        lg_line l;
        lgl_open(&l, &c);
        session(&l, 1, 9000, 12); /* START INIT 12 DATA: 14 taken, expects 7 */
        assert_int_equal(ds_lg_expected(l.lg), 7);
        l.ra = l.na;
        session(&l, 1, 9000, -1); /* a new host run, no reset */
        if (!fix) {
            assert_false(l.flags & DS_LG_APP);
            assert_false(ds_lg_app_valid(l.lg));
            assert_false(bank0_holds(&l, 9000)); /* a mix of both runs */
            assert_true(ds_lg_in_dfu(l.lg));
        } else {
            assert_true(l.flags & DS_LG_APP);
            assert_true(bank0_holds(&l, 9000));
        }
        lgl_close(&l);
    }
    /* N < 8 and the same image: DATA N lands at offset N x 512, where it
     * belongs, and the rerun completes by luck */
    ds_lg_config c;
    cfg840(&c);
    lg_line l;
    lgl_open(&l, &c);
    session(&l, 1, 9000, 5);
    session(&l, 1, 9000, -1);
    assert_true(l.flags & DS_LG_APP);
    assert_true(bank0_holds(&l, 9000));
    lgl_close(&l);
}

static void touch_timers_queue(void **state)
{
    (void)state;
    ds_lg_config c;
    cfg840(&c);
    c.app_size = 8192;
    c.dfu_timeout_ms = 5000;
    lg_line l;
    lgl_open(&l, &c);
    assert_false(ds_lg_in_dfu(l.lg)); /* the app runs */
    assert_int_equal(ds_lg_touch(l.lg), DS_LG_RESET);
    assert_true(ds_lg_boot(l.lg, 0, false)); /* GPREGRET 0x4E */
    assert_int_equal(ds_lg_touch(l.lg), 0);  /* the bootloader ignores it */
    assert_int_equal(ds_lg_deadline(l.lg), 5000);
    assert_int_equal(ds_lg_tick(l.lg, 4999), 0);
    assert_int_equal(ds_lg_tick(l.lg, 5000), DS_LG_APP); /* a valid app: it runs */
    assert_false(ds_lg_boot(l.lg, 6000, true));          /* power-on: GPREGRET gone */
    c.app_touch = false;
    lgl_close(&l);
    /* no app: the timer resets into DFU mode again */
    cfg840(&c);
    c.dfu_timeout_ms = 100;
    lgl_open(&l, &c);
    assert_int_equal(ds_lg_tick(l.lg, 100), DS_LG_RESET);
    lgl_close(&l);
    /* nRF52832: 1 s of serial DFU at start-up, kept by a packet */
    ds_lg_config_default(&c, "nrf52832");
    c.app_size = 4096;
    lgl_open(&l, &c);
    assert_true(ds_lg_in_dfu(l.lg));
    assert_int_equal(ds_lg_deadline(l.lg), DS_LG_STARTUP_MS);
    start_pkt(&l, 1, DK_LG_MODE_APP, 4096);
    assert_int_equal(ds_lg_deadline(l.lg), DS_LG_DFU_TIMEOUT_MS);
    lgl_close(&l);
    /* the queue: 3 slots; a 4th packet is acknowledged and lost */
    cfg840(&c);
    lgl_open(&l, &c);
    uint8_t a[8];
    size_t al;
    uint8_t pl[40], p[60];
    for (uint8_t s = 1; s <= 4; s++) {
        size_t n = dk_lg_encode(DK_LG_STOP, NULL, 0, pl);
        n = dk_hci_encode(s, pl, n, p);
        ds_lg_packet(l.lg, p, n, 0, a, &al);
        assert_int_equal(al, 6);
    }
    assert_int_equal(ds_lg_queued(l.lg), DS_LG_QUEUE);
    lgl_close(&l);
}

static ds_flash_verdict cut_at(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op)
{
    (void)is_erase, (void)addr, (void)len;
    return op == *(uint64_t *)ctx ? DS_FLASH_CUT : DS_FLASH_GO;
}

static void power_cut_and_dual_bank(void **state)
{
    (void)state;
    ds_lg_config c;
    cfg840(&c);
    lg_line l;
    lgl_open(&l, &c);
    uint64_t op = ds_flash_ops(l.fl) + 2; /* the second page erase of START */
    ds_flash_set_hook(l.fl, cut_at, &op);
    start_pkt(&l, 1, DK_LG_MODE_APP, 9000);
    assert_true(l.flags & DS_LG_CUT);
    assert_true(ds_lg_in_dfu(l.lg)); /* rebooted: no valid app */
    assert_int_equal(ds_lg_expected(l.lg), 1);
    ds_flash_set_hook(l.fl, NULL, NULL);
    l.flags = 0;
    session(&l, 1, 9000, -1);
    assert_true(l.flags & DS_LG_APP);
    assert_true(bank0_holds(&l, 9000));
    lgl_close(&l);
    /* dual bank: bank 1 first, bank 0 untouched until activation */
    cfg840(&c);
    c.dual_bank = true;
    c.app_size = 4096;
    lgl_open(&l, &c);
    assert_int_equal(ds_lg_touch(l.lg), DS_LG_RESET);
    lgl_boot(&l, false);
    uint8_t old[16];
    memcpy(old, ds_flash_mem(l.fl) + ds_lg_bank0(l.lg), 16);
    session(&l, 1, 9000, 10);
    assert_memory_equal(ds_flash_mem(l.fl) + ds_lg_bank0(l.lg), old, 16);
    assert_true(ds_lg_app_valid(l.lg));
    assert_false(ds_lg_boot(l.lg, 0, true)); /* a power cycle boots the old app */
    assert_int_equal(ds_lg_touch(l.lg), DS_LG_RESET);
    lgl_boot(&l, false);
    session(&l, 1, 9000, -1);
    assert_true(l.flags & DS_LG_APP);
    assert_true(bank0_holds(&l, 9000));
    lgl_close(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(complete_update),  cmocka_unit_test(slip_and_sequence),
        cmocka_unit_test(refusals_reset),   cmocka_unit_test(stale_sequence),
        cmocka_unit_test(touch_timers_queue), cmocka_unit_test(power_cut_and_dual_bank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
