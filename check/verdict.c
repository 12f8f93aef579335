/* verdict.c - pass or fail, with one line saying why (check.h).
 *
 * The board: the flash file dfusim left, read with the simulator's own
 * core (settings.h for the settings page and its backup, bl.h to power a
 * copy on and see what boots), so the layout lives in one place.
 * The conversation: the capture through lib's SLIP deframer and session
 * tracker (resumes, restarts, PRN, the target's last refusal, the diagnosis
 * dfudecode would give).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bl.h"
#include "check.h"
#include "dfukit/capfile.h"
#include "dfukit/crc.h"
#include "dfukit/diag.h"
#include "dfukit/session.h"
#include "dfukit/slip.h"
#include "dfukit/tables.h"
#include "flash.h"
#include "settings.h"

/* ---- the capture ---------------------------------------------------------- */

typedef struct {
    bool read;
    unsigned resumes, restarts;
    bool prn_on;
    bool has_resume;
    uint32_t resume_offset;  /* the first data offset the host went on from */
    dk_outcome outcome;
    char diag[48];
    bool failed, fail_has_ext;
    uint8_t fail_op, fail_result, fail_ext;
} facts;

static void on_event(void *ctx, const dk_event *ev)
{
    facts *f = ctx;
    if (ev->kind == DK_EV_EXCHANGE && ev->u.x.has_req && ev->u.x.req.op == DK_OP_RECEIPT_NOTIF_SET &&
        ev->u.x.req.req.prn.target)
        f->prn_on = true;
    if (ev->kind == DK_EV_RESUME && ev->u.resume.obj_type == DK_OBJ_DATA && !f->has_resume) {
        f->has_resume = true;
        f->resume_offset = ev->u.resume.from;
    }
    if (ev->kind == DK_EV_SUMMARY) {
        const dk_summary *s = ev->u.sum;
        f->resumes = s->resumes;
        f->restarts = s->restarts;
        f->outcome = s->outcome;
        f->failed = s->outcome == DK_OUTCOME_FAILED;
        f->fail_op = s->fail_op;
        f->fail_result = s->fail_result;
        f->fail_has_ext = s->fail_has_ext;
        f->fail_ext = s->fail_ext;
        snprintf(f->diag, sizeof f->diag, "%s", dk_diag_pick(s)->id);
    }
}

static void read_capture(const char *path, facts *f)
{
    memset(f, 0, sizeof *f);
    dk_err err;
    dk_cap_reader *rd = dk_cap_open(path, DK_FMT_PCAP, DK_DIR_UNKNOWN, &err);
    dk_session *s = dk_session_new(on_event, f);
    static uint8_t buf[3][8192];
    dk_slip_dec dec[3];
    for (int i = 0; i < 3; i++)
        dk_slip_dec_init(&dec[i], buf[i], sizeof buf[i]);
    if (!rd || !s) {
        dk_session_free(s);
        if (rd)
            dk_cap_close(rd);
        return;
    }
    dk_session_write_events(s, false);
    dk_chunk c;
    int64_t t[3] = { -1, -1, -1 };
    while (dk_cap_next(rd, &c, &err) > 0) {
        int d = (unsigned)c.dir <= DK_DIR_TARGET ? (int)c.dir : 0;
        t[d] = c.t_us;
        dk_slip_dec_set_pos(&dec[d], c.data_off);
        const uint8_t *p = c.data;
        size_t n = c.len;
        while (n) {
            size_t k;
            dk_slip_event ev;
            bool got = dk_slip_dec_next(&dec[d], p, n, &k, &ev);
            p += k;
            n -= k;
            if (got)
                dk_session_slip(s, &ev, c.t_us, (dk_dir)d);
        }
    }
    for (int d = 0; d < 3; d++) {
        dk_slip_event ev;
        if (dk_slip_dec_eof(&dec[d], &ev))
            dk_session_slip(s, &ev, t[d], (dk_dir)d);
    }
    dk_session_finish(s);
    f->read = true;
    dk_session_free(s);
    dk_cap_close(rd);
}

/* "EXT_ERROR HW_VERSION_FAILURE (0x06) to OBJECT_EXECUTE" */
static void refusal(const facts *f, char *out, size_t cap)
{
    if (!f->failed) {
        snprintf(out, cap, "the target refused nothing");
        return;
    }
    const char *op = dk_op_name(f->fail_op), *res = dk_result_name(f->fail_result);
    if (f->fail_has_ext)
        snprintf(out, cap, "the target answered %s with EXT_ERROR %s (0x%02X)", op ? op : "?",
                 dk_ext_name(f->fail_ext) ? dk_ext_name(f->fail_ext) : "?", f->fail_ext);
    else
        snprintf(out, cap, "the target answered %s with %s (0x%02X)", op ? op : "?", res ? res : "?",
                 f->fail_result);
}

/* ---- the board -------------------------------------------------------------- */

typedef struct {
    bool ok;          /* the file is a whole flash */
    bool app_runs;    /* powered on, an app boots */
    bool boots_image; /* and it is the image */
    char why[240];    /* update: the first thing wrong, else "" */
    uint32_t bank0_size;
} board;

/* The flash file, mapped read-only (no copy: the page cache's pages). */
static uint8_t *map_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    void *m = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        *len = (size_t)st.st_size;
    }
    close(fd);
    return m == MAP_FAILED ? NULL : m;
}

/* The settings page as the update must leave it (§6.2, §6.6 step 5). */
static void check_settings(const uint8_t *mem, const ds_chip *c, const dc_plan *p, board *b)
{
    const uint8_t *page = mem + c->settings, *backup = mem + c->mbr_params;
    ds_settings s, k;
    ds_sett_decode(page, &s);
    ds_sett_decode(backup, &k);
    uint32_t crc = dk_crc32(0, p->img, p->img_len);
    if (!ds_sett_page_valid(page))
        snprintf(b->why, sizeof b->why, "the settings page's CRC does not match it");
    else if (!ds_sett_backup_valid(backup))
        snprintf(b->why, sizeof b->why, "the settings backup page is not valid");
    else if (s.bank_0.bank_code != DS_BANK_VALID_APP || s.bank_0.image_size != p->img_len ||
             s.bank_0.image_crc != crc)
        snprintf(b->why, sizeof b->why,
                 "bank 0 is not the image: %u bytes, CRC 0x%08x, code 0x%02x (want %zu bytes, "
                 "CRC 0x%08x, valid app)", s.bank_0.image_size, s.bank_0.image_crc,
                 s.bank_0.bank_code, p->img_len, crc);
    else if (s.bank_1.bank_code != DS_BANK_INVALID)
        snprintf(b->why, sizeof b->why, "bank 1 still holds code 0x%02x: activation unfinished",
                 s.bank_1.bank_code);
    else if (p->has_fw && s.app_version != p->fw_version)
        snprintf(b->why, sizeof b->why, "app_version %u, not the package's %u", s.app_version,
                 p->fw_version);
    else if (memcmp(&k.bank_0, &s.bank_0, sizeof s.bank_0) || k.app_version != s.app_version)
        snprintf(b->why, sizeof b->why, "the settings backup disagrees with the page on bank 0");
}

static void read_board(const char *path, const dc_plan *p, board *b)
{
    memset(b, 0, sizeof *b);
    ds_bl_config cfg;
    ds_bl_config_default(&cfg, "nrf52840");
    cfg.enter = DS_BL_ENTER_NO_VALID_APP; /* the button released: what boots? */
    if (p->sd_fwid) {
        cfg.sd_end = 0x27000;
        cfg.sd_fwid = p->sd_fwid;
    }
    size_t len = 0;
    uint8_t *mem = map_file(path, &len);
    ds_flash *fl = NULL;
    ds_bl *bl = NULL;
    if (!mem || len != cfg.chip.flash_size || !(fl = ds_flash_new(cfg.chip.flash_size, cfg.chip.page_size)) ||
        ds_flash_program(fl, 0, mem, (uint32_t)len) != 0 || !(bl = ds_bl_new(&cfg, fl))) {
        snprintf(b->why, sizeof b->why, "the board's flash %.120s is missing or not %u bytes", path,
                 cfg.chip.flash_size);
        goto out;
    }
    b->ok = true;
    uint32_t b0 = ds_bl_bank0_start(bl);
    if (p->expect == DC_EXPECT_UPDATE) {
        check_settings(mem, &cfg.chip, p, b);
        if (!b->why[0] && (b0 + p->img_len > len || memcmp(mem + b0, p->img, p->img_len))) {
            size_t i = 0;
            while (b0 + i < len && i < p->img_len && mem[b0 + i] == p->img[i])
                i++;
            snprintf(b->why, sizeof b->why, "bank 0 differs from the image at offset %zu", i);
        }
    }
    b->app_runs = !ds_bl_power_on(bl, 0) && ds_bl_app_valid(bl);
    const ds_settings *s = ds_bl_settings(bl);
    b->bank0_size = s->bank_0.image_size;
    b->boots_image = b->app_runs && s->bank_0.image_size == p->img_len &&
                     b0 + p->img_len <= len && !memcmp(ds_flash_mem(fl) + b0, p->img, p->img_len);
    if (p->expect == DC_EXPECT_UPDATE && !b->why[0] && !b->boots_image)
        snprintf(b->why, sizeof b->why, "powered on, the board does not boot the image");
out:
    ds_bl_free(bl);
    ds_flash_free(fl);
    if (mem)
        munmap(mem, len);
}

/* ---- the verdict ---------------------------------------------------------------- */

#define SAY(...) snprintf(r->reason, sizeof r->reason, __VA_ARGS__)

static const char *runs_text(const dc_outcome *o, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%u run%s", o->runs, o->runs == 1 ? "" : "s");
    if (o->kills && n > 0)
        n += snprintf(buf + n, cap - (size_t)n, ", killed %u time%s", o->kills, o->kills == 1 ? "" : "s");
    if (o->failed_runs && n > 0)
        snprintf(buf + n, cap - (size_t)n, ", gave up %u time%s after the fault (exit %d: %.100s)",
                 o->failed_runs, o->failed_runs == 1 ? "" : "s", o->first_fail_exit, o->first_fail_line);
    return buf;
}

static void judge_update(const dc_plan *p, const dc_outcome *o, double timeout_s, const facts *f,
                         const board *b, dc_result *r)
{
    char rt[200], why[160];
    runs_text(o, rt, sizeof rt);
    refusal(f, why, sizeof why);
    if (o->timed_out)
        SAY("run %u did not end within %.0f s (killed); %s; transcript: %s", o->runs, timeout_s,
            f->failed ? why : "no refusal", f->diag);
    else if (o->kills < p->pauses)
        SAY("the kill point was never reached (%u of %u): the host sent fewer bytes or EXECUTEs "
            "than an update needs; %s", o->kills, p->pauses, rt);
    else if (o->last_exit != 0)
        SAY("run %u: the host exited %d: %s [%s; transcript: %s]", o->runs, o->last_exit,
            o->last_line[0] ? o->last_line : "(no output)", f->failed ? why : "no refusal", f->diag);
    else if (b->why[0])
        SAY("the host exited 0 but %s; %s", b->why, rt);
    else if (p->must_resume && f->restarts)
        SAY("completed, but restarted the image (new init packet or data from 0) although the "
            "target kept its progress; %s", rt);
    else if (p->prn && !f->prn_on)
        SAY("completed without asking for notifications: the command needs {prn} where the host "
            "takes a PRN value (or the host has none); %s", rt);
    else {
        r->pass = true;
        char res[64] = "";
        if (f->has_resume)
            snprintf(res, sizeof res, ", resumed at %u", f->resume_offset);
        SAY("activated, bank 0 holds the image and boots; %s%s%s", rt, res,
            p->prn ? ", PRN checked" : "");
    }
}

static void judge_reject(const dc_plan *p, const dc_outcome *o, double timeout_s, const facts *f,
                         const board *b, dc_result *r)
{
    (void)p;
    char why[160];
    refusal(f, why, sizeof why);
    const char *after = b->app_runs ? (b->bank0_size == DC_APP_SIZE ? "the old app still boots"
                                                                     : "an app boots")
                                    : "the board stays in DFU mode";
    if (!b->ok)
        SAY("%s", b->why);
    else if (b->boots_image)
        SAY("the board boots the image it should have refused (host exit %d)", o->last_exit);
    else if (o->timed_out)
        SAY("the host did not stop within %.0f s (killed): it retries a refused update; %s",
            timeout_s, why);
    else if (o->last_exit == 0)
        SAY("the host exited 0 although %s", f->failed ? why : "the update never happened");
    else {
        r->pass = true;
        if (f->failed)
            SAY("stopped with exit %d: %s; %s", o->last_exit, why, after);
        else
            SAY("stopped with exit %d before the target had to refuse (%s); %s", o->last_exit,
                o->last_line[0] ? o->last_line : "no output", after);
    }
}

void dc_judge(const dc_plan *p, const dc_outcome *o, double timeout_s, dc_result *r)
{
    board b;
    char flash[DC_PATH];
    dc_path(flash, p->dir, "flash.bin");
    read_board(flash, p, &b);
    /* The conversation tells resumes, PRN and what went wrong; in a sweep a
     * plain success needs only the board. */
    facts f;
    bool plain = p->lean && p->expect == DC_EXPECT_UPDATE && o->last_exit == 0 && !o->timed_out &&
                 o->kills >= p->pauses && !b.why[0] && !p->must_resume && !p->prn;
    if (plain)
        memset(&f, 0, sizeof f);
    else
        read_capture(r->capture, &f);
    if (p->expect == DC_EXPECT_UPDATE)
        judge_update(p, o, timeout_s, &f, &b, r);
    else
        judge_reject(p, o, timeout_s, &f, &b, r);
}
