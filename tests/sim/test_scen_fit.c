/* test_scen_fit.c - a scenario's device and dfusim's chip agree on the app
 * area: for each chip, with and without a SoftDevice, the largest app
 * dk_scen_validate accepts is the largest the simulator installs on a blank
 * chip, and one byte more is refused by the one and not installed by the
 * other (so a scenario can never say "app installed" while none is). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bl.h"
#include "dfukit/scenario.h"

static void scen_of(dk_scenario *s, const char *chip, bool sd, uint32_t size)
{
    dk_scen_init(s);
    strcpy(s->device.chip, chip);
    s->device.softdevice = sd;
    s->device.sd_fwid = 0x0100;
    s->device.app = true;
    s->device.app_size = size;
    s->device.app_version = 1;
}

static bool valid(const char *chip, bool sd, uint32_t size)
{
    dk_scenario s;
    scen_of(&s, chip, sd, size);
    return dk_scen_validate(&s, NULL) == DK_OK;
}

/* The largest size valid() accepts (sizes 1..n valid, the rest not). */
static uint32_t largest_valid(const char *chip, bool sd)
{
    uint64_t lo = 0, hi = UINT32_MAX; /* valid(lo) or lo == 0; !valid(hi + 1) */
    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) / 2;
        if (valid(chip, sd, (uint32_t)mid))
            lo = mid;
        else
            hi = mid - 1;
    }
    return (uint32_t)lo;
}

/* dfusim's configuration for the same scenario (as its --scenario does). */
static void config_of(ds_bl_config *cfg, const char *chip, bool sd, uint32_t size)
{
    dk_scenario s;
    scen_of(&s, chip, sd, size);
    ds_bl_config_default(cfg, chip);
    if (sd) {
        cfg->sd_fwid = s.device.sd_fwid;
        cfg->sd_end = s.device.sd_end;
    }
    cfg->app_size = size;
    cfg->app_version = 1;
}

static bool installs(const char *chip, bool sd, uint32_t size)
{
    ds_bl_config cfg;
    config_of(&cfg, chip, sd, size);
    ds_flash *fl = ds_flash_new(cfg.chip.flash_size, cfg.chip.page_size);
    ds_bl *bl = ds_bl_new(&cfg, fl);
    assert_non_null(bl);
    ds_bl_power_on(bl, 0);
    bool ok = ds_bl_app_valid(bl) && ds_bl_settings(bl)->bank_0.image_size == size;
    ds_bl_free(bl);
    ds_flash_free(fl);
    return ok;
}

static void app_area(void **state)
{
    (void)state;
    static const char *const chips[] = { "nrf52840", "nrf52832" };
    for (size_t i = 0; i < 2; i++) {
        for (int sd = 0; sd <= 1; sd++) {
            uint32_t max = largest_valid(chips[i], sd);
            assert_true(max >= 16384);
            assert_false(valid(chips[i], sd, 0));
            ds_bl_config cfg;
            config_of(&cfg, chips[i], sd, max);
            assert_int_equal(ds_bl_config_app_room(&cfg), max);
            if (!installs(chips[i], sd, max))
                fail_msg("%s%s: an app of %u bytes validates but is not installed", chips[i],
                         sd ? " with a SoftDevice" : "", max);
            assert_false(installs(chips[i], sd, max + 1));
            assert_false(installs(chips[i], sd, UINT32_MAX));
        }
    }
}

/* A SoftDevice that ends past the app area leaves no room: no app is
 * installed, whatever its size (the configuration dfusim refuses). */
static void no_room(void **state)
{
    (void)state;
    ds_bl_config cfg;
    ds_bl_config_default(&cfg, "nrf52840");
    cfg.sd_fwid = 0x0100;
    cfg.sd_end = cfg.chip.bl_start - 2 * cfg.chip.page_size;
    assert_int_equal(ds_bl_config_app_room(&cfg), 0);
    cfg.app_size = 0x100000;
    ds_flash *fl = ds_flash_new(cfg.chip.flash_size, cfg.chip.page_size);
    ds_bl *bl = ds_bl_new(&cfg, fl);
    assert_non_null(bl);
    ds_bl_power_on(bl, 0);
    assert_false(ds_bl_app_valid(bl));
    ds_bl_free(bl);
    ds_flash_free(fl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(app_area),
        cmocka_unit_test(no_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
