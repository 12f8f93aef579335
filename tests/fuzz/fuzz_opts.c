/* fuzz_opts.c - libFuzzer target for dfusim's option and fault parsing: the
 * --fault SPEC parser and matcher (sim/fault.c) and the whole command line
 * parser of dfusim (sim_parse_args in sim/sim_opts.c, compiled in here with its
 * messages sent to /dev/null; with --protocol legacy, the legacy parser in
 * fuzz_opts_legacy.c).  The first byte picks which; the rest is
 * NUL-separated words: fault specs then an event script, or argv.
 *
 * Invariants beyond the sanitizers: a spec that parses names a known trigger
 * and action, keeps its text, and written back in canonical form parses to
 * the same fault; a refused spec says why in a non-empty message; the
 * matcher fires only faults it holds, at most the table's size at once, and
 * a fault without "+" at most once; the command line parser goes on or
 * returns an exit status (0 help, 2 one error) and, when it goes on, leaves a
 * configuration the
 * bootloader core takes (a valid chip, MTU, an app that fits). */
#include <stdint.h>
#include <stdio.h>

static FILE *fz_quiet;
#undef stderr
#undef stdout
#define stderr fz_quiet
#define stdout fz_quiet
#include "../../sim/sim_opts.c"
#undef stderr
#undef stdout

#include "fuzz_util.h"

void fz_lg_command_line(int argc, char **argv); /* fuzz_opts_legacy.c */

/* Up to max NUL-separated words of data (the last one need not end). */
static int words(const uint8_t *data, size_t size, char **out, int max, char *store)
{
    memcpy(store, data, size);
    store[size] = '\0';
    int n = 0;
    size_t i = 0;
    while (i <= size && n < max) {
        out[n++] = store + i;
        i += strlen(store + i) + 1;
    }
    return n;
}

static void canonical(const ds_fault *f, char *out, size_t cap)
{
    int k;
    if (f->trig == DS_FT_OP || f->trig == DS_FT_AFTER_OP)
        k = snprintf(out, cap, "%s=0x%02x#%llu%s:", ds_fault_trig_name(f->trig), f->opcode,
                     (unsigned long long)f->n, f->repeat ? "+" : "");
    else
        k = snprintf(out, cap, "%s=%llu:", ds_fault_trig_name(f->trig), (unsigned long long)f->n);
    CHECK(k > 0 && (size_t)k < cap);
    bool arg = f->act == DS_FA_DELAY || f->act == DS_FA_POWER_CUT ||
               (f->act == DS_FA_CORRUPT && f->arg >= 0);
    if (arg)
        snprintf(out + k, cap - (size_t)k, "%s=%lld", ds_fault_act_name(f->act), (long long)f->arg);
    else
        snprintf(out + k, cap - (size_t)k, "%s", ds_fault_act_name(f->act));
}

static void faults(const uint8_t *data, size_t size)
{
    static char store[65536];
    char *w[DS_FAULTS_MAX + 2];
    int n = words(data, size, w, DS_FAULTS_MAX + 1, store);
    ds_faults fs;
    ds_faults_init(&fs);
    for (int i = 0; i + 1 < n || (n == 1 && i == 0); i++) {
        ds_fault f, g;
        char why[200] = "", canon[200];
        if (ds_fault_parse(w[i], &f, why, sizeof why) < 0) {
            CHECK(why[0] != '\0' && memchr(why, '\0', sizeof why));
            continue;
        }
        CHECK((unsigned)f.trig <= DS_FT_MS && (unsigned)f.act <= DS_FA_PAUSE);
        CHECK(strncmp(f.spec, w[i], sizeof f.spec - 1) == 0);
        CHECK(!f.repeat || f.trig == DS_FT_OP || f.trig == DS_FT_AFTER_OP);
        canonical(&f, canon, sizeof canon);
        if (ds_fault_parse(canon, &g, why, sizeof why) != 0) {
            fprintf(stderr, "'%s' -> '%s': %s\n", w[i], canon, why);
            CHECK(0);
        }
        CHECK(g.trig == f.trig && g.n == f.n && g.opcode == f.opcode && g.repeat == f.repeat &&
              g.act == f.act && g.arg == f.arg);
        (void)ds_faults_add(&fs, &f);
    }
    /* the last word drives the matcher */
    fz_in in = { (const uint8_t *)w[n - 1], strlen(w[n - 1]), 0 };
    uint64_t now = 0, bytes = 0, flash_ops = 0;
    while (fz_left(&in)) {
        uint8_t ev = fz_u8(&in), arg = fz_u8(&in);
        ds_fault_fire fire;
        memset(&fire, 0, sizeof fire);
        switch (ev % 6) {
        case 0:
            ds_faults_request(&fs, arg % 0x0E, &fire);
            break;
        case 1:
            bytes += arg * 64u;
            ds_faults_handled(&fs, arg % 0x0E, bytes, &fire);
            break;
        case 2:
            (void)ds_faults_flash_op(&fs, ++flash_ops);
            break;
        case 3:
            now += arg * 100u;
            ds_faults_tick(&fs, now, &fire);
            CHECK(ds_faults_next_ms(&fs) > now || ds_faults_next_ms(&fs) == UINT64_MAX);
            break;
        case 4: {
            uint32_t delay = 0;
            int64_t at = -2;
            uint8_t rsp[8] = { 0x60, 1, 1, 2, 3, 4, 5, 6 };
            if (!ds_faults_response(&fs, &delay, &at) && at != -2)
                ds_fault_corrupt(rsp, 1 + arg % sizeof rsp, at);
            break;
        }
        default:
            ds_faults_take_deferred(&fs, &fire);
        }
        CHECK(fire.n_which <= DS_FAULTS_MAX);
        for (size_t i = 0; i < fire.n_which; i++)
            CHECK(fire.which[i] < fs.n);
        for (size_t i = 0; i < fs.n; i++)
            CHECK(fs.f[i].fired <= 1 || fs.f[i].repeat);
    }
}

static void command_line(const uint8_t *data, size_t size)
{
    static char store[65536];
    char *argv[40];
    argv[0] = (char *)"dfusim";
    int argc = 1 + words(data, size, argv + 1, 38, store);
    argv[argc] = NULL;
    for (int i = 1; i < argc; i++) /* files: only names here, never "-" or a path */
        for (char *p = argv[i]; *p; p++)
            if (*p == '/')
                *p = '_';
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-") || !strcmp(argv[i], "--scenario=-"))
            argv[i][strlen(argv[i]) - 1] = '_';
    if (dk_cli_pick(&ds_sim_cli, argc, argv) == &ds_legacy_cli) { /* as main does */
        fz_lg_command_line(argc, argv);
        return;
    }
    static options o;
    memset(&o, 0, sizeof o);
    int rc = sim_parse_args(argc, argv, &o);
    CHECK(rc == DK_CLI_GO || rc == 0 || rc == 1 || rc == 2);
    if (rc != DK_CLI_GO)
        return;
    CHECK(ds_chip_find(o.cfg.chip.name) != NULL);
    CHECK(o.cfg.mtu >= 23);
    CHECK(o.cfg.app_size <= ds_bl_config_app_room(&o.cfg));
    CHECK(o.faults.n <= DS_FAULTS_MAX);
    CHECK(o.baud >= 300);
    ds_flash *fl = ds_flash_new(o.cfg.chip.flash_size, o.cfg.chip.page_size);
    CHECK(fl);
    ds_bl *bl = ds_bl_new(&o.cfg, fl);
    CHECK(bl); /* an accepted command line is a model the core builds */
    ds_bl_free(bl);
    ds_flash_free(fl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_quiet)
        fz_quiet = fopen("/dev/null", "w");
    CHECK(fz_quiet);
    if (size < 1 || size > 60000)
        return 0;
    if (data[0] & 1)
        command_line(data + 1, size - 1);
    else
        faults(data + 1, size - 1);
    return 0;
}
