/* fuzz_opts_legacy.c - the legacy half of fuzz_opts: dfusim --protocol
 * legacy's command line parser (parse in sim/legacy_main.c, compiled in here
 * with its messages sent to /dev/null).  dfusim.c's main hands it the whole
 * command line; fuzz_opts.c calls fz_lg_command_line when dk_cli_pick picks
 * the legacy table.
 *
 * Invariants beyond the sanitizers: the parser goes on or returns an exit
 * status (0 help, 2 one error); when it goes on, the configuration builds a
 * core on the chip's flash, and an app it was asked to install (--app-size)
 * is installed and valid: an app that cannot fit is refused on the command
 * line, never dropped in silence. */
#include <stdint.h>
#include <stdio.h>

static FILE *fz_lg_quiet;
#undef stderr
#undef stdout
#define stderr fz_lg_quiet
#define stdout fz_lg_quiet
#include "../../sim/legacy_main.c"
#undef stderr
#undef stdout

#include "fuzz_util.h"

void fz_lg_command_line(int argc, char **argv);

void fz_lg_command_line(int argc, char **argv)
{
    if (!fz_lg_quiet)
        fz_lg_quiet = fopen("/dev/null", "w");
    CHECK(fz_lg_quiet);
    static lopts o;
    memset(&o, 0, sizeof o);
    int rc = parse(argc, argv, &o);
    CHECK(rc == DK_CLI_GO || rc == 0 || rc == 1 || rc == 2);
    if (rc != DK_CLI_GO)
        return;
    CHECK(o.faults.n <= DS_FAULTS_MAX);
    const ds_chip *c = &o.cfg.chip;
    ds_flash *fl = ds_flash_new(c->flash_size, c->page_size);
    CHECK(fl);
    ds_lg *lg = ds_lg_new(&o.cfg, fl);
    CHECK(lg); /* an accepted command line is a model the core builds */
    ds_lg_provision(lg);
    if (o.cfg.app_size) {
        ds_lg_settings s;
        ds_lg_settings_read(lg, &s);
        CHECK(s.bank_0 == DS_LG_BANK_VALID_APP && s.bank_0_size == (o.cfg.app_size & ~3u));
    }
    ds_lg_boot(lg, 0, true);
    ds_lg_free(lg);
    ds_flash_free(fl);
}
