/* test_bl_powercut.c - power-cut sweep in the MCUboot spirit: run an update,
 * cut power at flash operation N for every N in turn, reboot, check the
 * invariants, then let a host finish the update (protocol.md §6.2, §6.3,
 * §6.6, §6.9). */
#include "test_bl_util.h"

#include "settings.h"

#define PAGE 4096u
#define IMG_LEN (2 * PAGE + 512)
#define OLD_LEN (2 * PAGE + 100)

typedef struct {
    rig *r;
    uint64_t cut_at;
    bool fired;
    bool probed;   /* flash looked at right after the cut */
    bool sett_ok;  /* settings page or backup valid after the cut */
} sweep;

static void probe(sweep *s)
{
    const uint8_t *m = ds_flash_mem(s->r->fl);
    s->sett_ok = ds_sett_page_valid(m + s->r->cfg.chip.settings) ||
                 ds_sett_backup_valid(m + s->r->cfg.chip.mbr_params);
    s->probed = true;
}

static ds_flash_verdict hook(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op)
{
    (void)is_erase, (void)addr, (void)len;
    sweep *s = ctx;
    if (s->fired && !s->probed)
        probe(s); /* the first op after the cut sees the flash as the cut left it */
    if (op == s->cut_at) {
        s->fired = true;
        return DS_FLASH_CUT;
    }
    return DS_FLASH_GO;
}

enum { H_DONE, H_CUT, H_FAILED };

/* A careful host (like dfuhost): recover the init command when SELECT shows
 * it complete, resume data at the reported offset when its CRC matches,
 * else start the image again with a new command CREATE.  Returns H_DONE
 * when the final EXECUTE answered success (then the core resets), H_CUT
 * when the core lost power; *final_ok tells whether the final response went
 * out before that. */
static int host(rig *r, const uint8_t *img, const uint8_t *dat, size_t n, bool *final_ok)
{
    *final_ok = false;
#define CHK()                                                                                 \
    do {                                                                                      \
        if (r->flags & DS_BL_CUT)                                                             \
            return H_CUT;                                                                     \
    } while (0)
    rq_select(r, 1);
    CHK();
    bool have_cmd = r->m.rsp.select.offset == n && r->m.rsp.select.crc == dk_crc32(0, dat, n);
    if (have_cmd) {
        rq_execute(r);
        CHK();
        have_cmd = r->m.result == DK_RES_SUCCESS;
    }
    rq_select(r, 2);
    CHK();
    uint32_t off = r->m.rsp.select.offset;
    bool data_ok = off <= IMG_LEN && r->m.rsp.select.crc == (off ? dk_crc32(0, img, off) : 0);
    if (!have_cmd || !data_ok) {
        /* start the image again: a command CREATE resets all progress */
        rq_create(r, 1, (uint32_t)n);
        CHK();
        rq_stream(r, dat, n);
        CHK();
        rq_execute(r);
        CHK();
        if (r->m.result != DK_RES_SUCCESS)
            return H_FAILED;
        off = 0;
    }
    if (off % PAGE && off < IMG_LEN) {
        /* mid-object without a reset: finish this object */
        uint32_t end = off / PAGE * PAGE + PAGE < IMG_LEN ? off / PAGE * PAGE + PAGE : IMG_LEN;
        rq_stream(r, img + off, end - off);
        CHK();
        off = end;
        rq_execute(r);
        CHK();
        if (r->m.result != DK_RES_SUCCESS)
            return H_FAILED;
        if (r->flags & DS_BL_RESET) {
            *final_ok = true;
            return H_DONE;
        }
    } else if (off > 0) {
        rq_execute(r); /* re-execute the last whole object */
        CHK();
        if (r->rsp_len && r->m.result == DK_RES_SUCCESS && (r->flags & DS_BL_RESET)) {
            *final_ok = true;
            return H_DONE;
        }
    }
    int last = send_fw(r, img, IMG_LEN, off);
    if (r->flags & DS_BL_CUT) {
        /* the final response goes out before the settings write; the RAM
         * progress is wiped only by the final (postvalidated) EXECUTE */
        *final_ok = r->rsp_len > 0 && r->m.op == 0x04 && r->m.result == DK_RES_SUCCESS &&
                    ds_bl_settings(r->bl)->progress.command_size == 0;
        return H_CUT;
    }
    if (last != DK_RES_SUCCESS || !(r->flags & DS_BL_RESET))
        return H_FAILED;
    *final_ok = true;
    return H_DONE;
#undef CHK
}

static void run_sweep(bool save_progress, uint32_t old_len, bool single_bank)
{
    uint8_t *img = make_image(IMG_LEN, 31);
    dk_init_cmd c;
    init_default(&c, img, IMG_LEN);
    c.fw_version = 2;
    uint8_t dat[512];
    size_t n = pkt_make(&c, NULL, dat, sizeof dat);
    int iterations = 0, lost_after_response = 0;

    for (uint64_t N = 1;; N++) {
        ds_bl_config cfg;
        ds_bl_config_default(&cfg, "nrf52832");
        cfg.allow_unsigned = true;
        cfg.enter = DS_BL_ENTER_ALWAYS;
        cfg.app_size = old_len;
        cfg.app_version = 1;
        cfg.save_progress_in_flash = save_progress;
        cfg.single_bank = single_bank;
        rig *r = rig_new(&cfg);
        uint8_t *old = malloc(old_len + 1);
        memcpy(old, ds_flash_mem(r->fl) + 0x1000, old_len);
        sweep s = { r, ds_flash_ops(r->fl) + N, false, false, false };
        ds_flash_set_hook(r->fl, hook, &s);

        bool final_ok;
        int h = host(r, img, dat, n, &final_ok);
        assert_int_not_equal(h, H_FAILED);
        rig_boot(r); /* after the final reset this runs the activation */
        if (!s.fired) {
            /* N is past the last operation of a whole update: done */
            assert_int_equal(h, H_DONE);
            assert_memory_equal(ds_flash_mem(r->fl) + 0x1000, img, IMG_LEN);
            ds_flash_set_hook(r->fl, NULL, NULL);
            free(old);
            rig_free(r);
            break;
        }
        iterations++;
        if (!s.probed)
            probe(&s);
        /* invariant 1: a valid settings copy survives every cut */
        assert_true(s.sett_ok);
        /* invariant 2: after the reboot a bootable app exists (old or new) in
         * dual bank; the old one as long as the final response was not out */
        const uint8_t *b0 = ds_flash_mem(r->fl) + 0x1000;
        bool is_old = old_len && ds_bl_app_valid(r->bl) && !memcmp(b0, old, old_len) &&
                      ds_bl_settings(r->bl)->bank_0.image_size == old_len;
        bool is_new = ds_bl_app_valid(r->bl) && !memcmp(b0, img, IMG_LEN) &&
                      ds_bl_settings(r->bl)->bank_0.image_size == IMG_LEN;
        if (old_len && !single_bank) {
            assert_true(is_old || is_new);
            if (h == H_CUT && !final_ok)
                assert_true(is_old);
        } else {
            /* single bank / no app: the old app is gone once the init
             * command's settings are in flash; never a half state */
            assert_true(is_old || is_new || !ds_bl_app_valid(r->bl));
        }
        if (h == H_CUT && final_ok && is_old)
            lost_after_response++;
        assert_int_equal(ds_bl_settings(r->bl)->bank_1.bank_code, DS_BANK_INVALID);
        assert_true(ds_bl_in_dfu(r->bl));

        /* invariant 3: a host can always finish, and the result is the image */
        if (!is_new) {
            assert_int_equal(host(r, img, dat, n, &final_ok), H_DONE);
            rig_boot(r);
        }
        assert_true(ds_bl_app_valid(r->bl));
        assert_memory_equal(b0, img, IMG_LEN);
        assert_int_equal(ds_bl_settings(r->bl)->app_version, 2);
        assert_int_equal(ds_flash_violations(r->fl), 0); /* never wrote over data */
        free(old);
        rig_free(r);
    }
    print_message("%d cuts, %d updates lost after their success response\n", iterations, lost_after_response);
    /* a whole update is a few hundred flash operations; all were cut once */
    assert_true(iterations > 100);
    /* §6.3: the final settings write follows the response, so a cut there
     * loses an update the host was told had succeeded */
    if (old_len && !single_bank)
        assert_true(lost_after_response > 0);
    free(img);
}

static void test_sweep_dual_bank(void **state)
{
    (void)state;
    run_sweep(false, OLD_LEN, false);
}

static void test_sweep_dual_bank_save_progress(void **state)
{
    (void)state;
    run_sweep(true, OLD_LEN, false);
}

static void test_sweep_no_app(void **state)
{
    (void)state;
    run_sweep(false, 0, false);
}

static void test_sweep_single_bank(void **state)
{
    (void)state;
    run_sweep(true, OLD_LEN, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_dual_bank),
        cmocka_unit_test(test_sweep_dual_bank_save_progress),
        cmocka_unit_test(test_sweep_no_app),
        cmocka_unit_test(test_sweep_single_bank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
