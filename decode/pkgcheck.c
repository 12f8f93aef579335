/* pkgcheck.c - compare written bytes with a DFU package (see pkgcheck.h). */
#include "pkgcheck.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/pkg.h"

#define SLOTS 64 /* session images tracked (index modulo SLOTS) */

typedef struct {
    int img;              /* package image, -1 not mapped yet */
    bool init_seen, init_diff;
    size_t init_first;
    uint64_t checked;
    bool diff;
    uint32_t first;
} slot;

struct pkgcheck {
    dk_pkg pkg;
    char path[512];
    slot s[SLOTS];
    unsigned used;        /* highest session image seen */
};

pkgcheck *pkgcheck_open(const char *path, dk_err *err)
{
    pkgcheck *pc = calloc(1, sizeof *pc);
    if (!pc) {
        dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    if (dk_pkg_open(path, &pc->pkg, err) != DK_OK) {
        free(pc);
        return NULL;
    }
    if (pc->pkg.n == 0) {
        dk_err_set(err, DK_E_FORMAT, -1, "the package holds no image");
        dk_pkg_free(&pc->pkg);
        free(pc);
        return NULL;
    }
    snprintf(pc->path, sizeof pc->path, "%s", path);
    for (unsigned i = 0; i < SLOTS; i++)
        pc->s[i].img = -1;
    return pc;
}

void pkgcheck_free(pkgcheck *pc)
{
    if (!pc)
        return;
    dk_pkg_free(&pc->pkg);
    free(pc);
}

static uint32_t kind_fw(dk_img_kind k)
{
    switch (k) {
    case DK_IMG_SOFTDEVICE_BOOTLOADER: return DK_FW_SOFTDEVICE_BOOTLOADER;
    case DK_IMG_SOFTDEVICE: return DK_FW_SOFTDEVICE;
    case DK_IMG_BOOTLOADER: return DK_FW_BOOTLOADER;
    default: return DK_FW_APPLICATION;
    }
}

/* Session image -> package image: by order when nothing better is known. */
static slot *slot_of(pkgcheck *pc, unsigned image)
{
    slot *sl = &pc->s[image % SLOTS];
    if (image > pc->used)
        pc->used = image;
    if (sl->img < 0) {
        unsigned i = image ? image - 1 : 0;
        sl->img = (int)(i < pc->pkg.n ? i : pc->pkg.n - 1);
    }
    return sl;
}

static void on_init(pkgcheck *pc, printer *p, const dk_event *ev)
{
    const dk_init_ev *iv = &ev->u.init;
    slot *sl = &pc->s[ev->image % SLOTS];
    if (ev->image > pc->used)
        pc->used = ev->image;
    if (!iv->len)
        return;
    int pick = -1;
    for (size_t i = 0; i < pc->pkg.n && pick < 0; i++)
        if (pc->pkg.img[i].dat_len == iv->len && memcmp(pc->pkg.img[i].dat, iv->bytes, iv->len) == 0)
            pick = (int)i;
    if (pick < 0 && iv->ok && iv->pkt && iv->pkt->init.has_type) {
        uint32_t t = iv->pkt->init.type == DK_FW_EXTERNAL_APPLICATION ? DK_FW_APPLICATION
                                                                      : iv->pkt->init.type;
        for (size_t i = 0; i < pc->pkg.n && pick < 0; i++)
            if (kind_fw(pc->pkg.img[i].kind) == t)
                pick = (int)i;
    }
    if (pick >= 0)
        sl->img = pick;
    else
        slot_of(pc, ev->image);
    const dk_image *im = &pc->pkg.img[sl->img];
    sl->init_seen = true;
    size_t n = iv->len < im->dat_len ? iv->len : im->dat_len;
    size_t i = 0;
    while (i < n && iv->bytes[i] == im->dat[i])
        i++;
    if (i == n && iv->len == im->dat_len)
        return;
    sl->init_diff = true;
    sl->init_first = i;
    char t[512]; /* member names run up to 255 bytes */
    if (i < n)
        snprintf(t, sizeof t, "init packet differs from %s at byte %zu: sent 0x%02x, package has 0x%02x",
                 im->dat_name, i, iv->bytes[i], im->dat[i]);
    else
        snprintf(t, sizeof t, "init packet has %zu bytes, %s has %zu (equal up to byte %zu)",
                 iv->len, im->dat_name, im->dat_len, i);
    printer_extra(p, "pkg.init_mismatch", DK_SEV_ERROR, ev->t_us, ev->start, ev->end, t);
}

static void on_write(pkgcheck *pc, printer *p, const dk_event *ev)
{
    const dk_write *w = &ev->u.w;
    if (w->obj_type != DK_OBJ_DATA || !w->len)
        return;
    slot *sl = slot_of(pc, ev->image);
    const dk_image *im = &pc->pkg.img[sl->img];
    sl->checked += w->len;
    if (sl->diff)
        return; /* the first difference is what counts */
    char t[512]; /* member names run up to 255 bytes */
    if ((uint64_t)w->offset + w->len > im->bin_len) {
        uint32_t at = w->offset > im->bin_len ? w->offset : (uint32_t)im->bin_len;
        size_t lim = w->offset < im->bin_len ? im->bin_len - w->offset : 0;
        size_t i = 0;
        while (i < lim && w->data[i] == im->bin[w->offset + i])
            i++;
        if (i < lim)
            at = w->offset + (uint32_t)i;
        sl->diff = true;
        sl->first = at;
        if (i < lim)
            snprintf(t, sizeof t, "image %u: first difference from %s at offset %" PRIu32
                     ": sent 0x%02x, package has 0x%02x", ev->image, im->bin_name, at,
                     w->data[i], im->bin[at]);
        else
            snprintf(t, sizeof t, "image %u: write [%" PRIu32 ", %" PRIu32 ") goes past the end "
                     "of %s (%zu bytes)", ev->image, w->offset, w->offset + (uint32_t)w->len,
                     im->bin_name, im->bin_len);
        printer_extra(p, "pkg.data_mismatch", DK_SEV_ERROR, ev->t_us, ev->start, ev->end, t);
        return;
    }
    const uint8_t *ref = im->bin + w->offset;
    if (memcmp(ref, w->data, w->len) == 0)
        return;
    size_t i = 0;
    while (w->data[i] == ref[i])
        i++;
    sl->diff = true;
    sl->first = w->offset + (uint32_t)i;
    snprintf(t, sizeof t, "image %u: first difference from %s at offset %" PRIu32
             ": sent 0x%02x, package has 0x%02x", ev->image, im->bin_name, sl->first, w->data[i],
             ref[i]);
    printer_extra(p, "pkg.data_mismatch", DK_SEV_ERROR, ev->t_us, ev->start, ev->end, t);
}

void pkgcheck_event(pkgcheck *pc, printer *p, const dk_event *ev)
{
    if (ev->kind == DK_EV_WRITE)
        on_write(pc, p, ev);
    else if (ev->kind == DK_EV_INIT)
        on_init(pc, p, ev);
}

bool pkgcheck_ok(const pkgcheck *pc)
{
    for (unsigned i = 0; i < SLOTS; i++)
        if (pc->s[i].diff || pc->s[i].init_diff)
            return false;
    return true;
}

void pkgcheck_report(pkgcheck *pc, printer *p)
{
    unsigned last = pc->used < SLOTS ? pc->used : SLOTS - 1;
    if (p->json) {
        json_t *o = json_object();
        json_object_set_new(o, "event", json_string("package"));
        json_object_set_new(o, "file", json_string(pc->path));
        json_object_set_new(o, "ok", json_boolean(pkgcheck_ok(pc)));
        json_t *a = json_array();
        for (unsigned i = 1; i <= last; i++) {
            const slot *sl = &pc->s[i];
            if (sl->img < 0)
                continue;
            const dk_image *im = &pc->pkg.img[sl->img];
            json_t *e = json_object();
            json_object_set_new(e, "image", json_integer(i));
            json_object_set_new(e, "bin", json_string(im->bin_name));
            json_object_set_new(e, "dat", json_string(im->dat_name));
            json_object_set_new(e, "init", json_string(!sl->init_seen ? "not_seen"
                                                       : sl->init_diff  ? "differs"
                                                                        : "matches"));
            json_object_set_new(e, "init_first_diff",
                                sl->init_diff ? json_integer((json_int_t)sl->init_first) : json_null());
            json_object_set_new(e, "bytes_checked", json_integer((json_int_t)sl->checked));
            json_object_set_new(e, "first_diff", sl->diff ? json_integer(sl->first) : json_null());
            json_array_append_new(a, e);
        }
        json_object_set_new(o, "images", a);
        json_dumpf(o, p->f, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', p->f);
        json_decref(o);
        return;
    }
    printer_note(p, "package:     %s: %s\n", pc->path,
                 pkgcheck_ok(pc) ? "every byte sent matches" : "DIFFERS");
    for (unsigned i = 1; i <= last; i++) {
        const slot *sl = &pc->s[i];
        if (sl->img < 0)
            continue;
        const dk_image *im = &pc->pkg.img[sl->img];
        printer_note(p, "    image %u = %s/%s: init packet %s", i, im->bin_name, im->dat_name,
                     !sl->init_seen ? "not in the capture"
                     : sl->init_diff ? "differs"
                                     : "matches");
        if (sl->init_diff)
            printer_note(p, " (from byte %zu)", sl->init_first);
        printer_note(p, "; %" PRIu64 " data bytes checked, ", sl->checked);
        if (sl->diff)
            printer_note(p, "first difference at offset %" PRIu32 "\n", sl->first);
        else
            printer_note(p, "all match\n");
    }
}
