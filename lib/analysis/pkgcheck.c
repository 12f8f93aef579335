/* pkgcheck.c - written bytes against a DFU package (see pkgcheck.h). */
#include "dfukit/pkgcheck.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS DK_PKGCHECK_IMAGES

typedef struct {
    int img;              /* package image, -1 not mapped yet */
    bool init_seen, init_diff;
    size_t init_first;
    uint64_t checked;
    bool diff;
    uint32_t first;
} slot;

struct dk_pkgcheck {
    const dk_pkg *pkg;
    char name[512];
    slot s[SLOTS];
    unsigned used;        /* highest session image seen */
    dk_pkg_report rep;
};

dk_pkgcheck *dk_pkgcheck_new(const dk_pkg *pkg, const char *name)
{
    if (!pkg || pkg->n == 0)
        return NULL;
    dk_pkgcheck *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->pkg = pkg;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    for (unsigned i = 0; i < SLOTS; i++)
        c->s[i].img = -1;
    return c;
}

void dk_pkgcheck_free(dk_pkgcheck *c)
{
    free(c);
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
static slot *slot_of(dk_pkgcheck *c, unsigned image)
{
    slot *sl = &c->s[image % SLOTS];
    if (image > c->used)
        c->used = image;
    if (sl->img < 0) {
        unsigned i = image ? image - 1 : 0;
        sl->img = (int)(i < c->pkg->n ? i : c->pkg->n - 1);
    }
    return sl;
}

/* A difference, as an anomaly event about the bytes of ev. */
static void report_diff(const dk_event *ev, dk_anomaly_id id, const char *text, dk_event_cb emit,
                  void *ctx)
{
    dk_event a;
    memset(&a, 0, sizeof a);
    a.kind = DK_EV_ANOMALY;
    a.t_us = ev->t_us;
    a.start = ev->start;
    a.end = ev->end;
    a.dir = DK_DIR_HOST;
    a.image = ev->image;
    a.u.an.id = id;
    a.u.an.severity = dk_anomaly_severity(id);
    a.u.an.dir = DK_DIR_HOST;
    a.u.an.start = ev->start;
    a.u.an.end = ev->end;
    size_t n = strnlen(text, sizeof a.u.an.text - 1); /* cut to fit, as the text field is */
    memcpy(a.u.an.text, text, n);
    a.u.an.text[n] = '\0';
    emit(ctx, &a);
}

/* The package image an init packet belongs to: the same .dat, else the same
 * firmware type, else by order. */
static slot *slot_of_init(dk_pkgcheck *c, const dk_event *ev)
{
    const dk_init_ev *iv = &ev->u.init;
    const dk_pkg *pkg = c->pkg;
    int pick = -1;
    for (size_t i = 0; i < pkg->n && pick < 0; i++)
        if (pkg->img[i].dat_len == iv->len && memcmp(pkg->img[i].dat, iv->bytes, iv->len) == 0)
            pick = (int)i;
    if (pick < 0 && iv->ok && iv->pkt && iv->pkt->init.has_type) {
        uint32_t t = iv->pkt->init.type == DK_FW_EXTERNAL_APPLICATION ? DK_FW_APPLICATION
                                                                      : iv->pkt->init.type;
        for (size_t i = 0; i < pkg->n && pick < 0; i++)
            if (kind_fw(pkg->img[i].kind) == t)
                pick = (int)i;
    }
    slot *sl = &c->s[ev->image % SLOTS];
    if (pick >= 0)
        sl->img = pick;
    else
        slot_of(c, ev->image);
    return sl;
}

static void on_init(dk_pkgcheck *c, const dk_event *ev, dk_event_cb emit, void *ctx)
{
    const dk_init_ev *iv = &ev->u.init;
    if (ev->image > c->used)
        c->used = ev->image;
    if (!iv->len)
        return;
    slot *sl = slot_of_init(c, ev);
    const dk_image *im = &c->pkg->img[sl->img];
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
    report_diff(ev, DK_AN_PKG_INIT_MISMATCH, t, emit, ctx);
}

/* How many bytes of w, from its first, equal the .bin (up to its end). */
static size_t first_diff(const dk_write *w, const dk_image *im)
{
    size_t lim = w->offset < im->bin_len ? im->bin_len - w->offset : 0;
    if (lim > w->len)
        lim = w->len;
    size_t i = 0;
    while (i < lim && w->data[i] == im->bin[w->offset + i])
        i++;
    return i;
}

static void on_write(dk_pkgcheck *c, const dk_event *ev, dk_event_cb emit, void *ctx)
{
    const dk_write *w = &ev->u.w;
    if (w->obj_type != DK_OBJ_DATA || !w->len)
        return;
    slot *sl = slot_of(c, ev->image);
    const dk_image *im = &c->pkg->img[sl->img];
    sl->checked += w->len;
    if (sl->diff)
        return; /* the first difference is what counts */
    bool past = (uint64_t)w->offset + w->len > im->bin_len;
    if (!past && memcmp(im->bin + w->offset, w->data, w->len) == 0)
        return;
    size_t i = first_diff(w, im);
    bool byte = w->offset < im->bin_len && i < im->bin_len - w->offset && i < w->len;
    sl->diff = true;
    sl->first = byte ? w->offset + (uint32_t)i : w->offset > im->bin_len ? w->offset
                                                                          : (uint32_t)im->bin_len;
    char t[512]; /* member names run up to 255 bytes */
    if (byte)
        snprintf(t, sizeof t, "image %u: first difference from %s at offset %" PRIu32
                 ": sent 0x%02x, package has 0x%02x", ev->image, im->bin_name, sl->first,
                 w->data[i], im->bin[sl->first]);
    else
        snprintf(t, sizeof t, "image %u: write [%" PRIu32 ", %" PRIu32 ") goes past the end "
                 "of %s (%zu bytes)", ev->image, w->offset, w->offset + (uint32_t)w->len,
                 im->bin_name, im->bin_len);
    report_diff(ev, DK_AN_PKG_DATA_MISMATCH, t, emit, ctx);
}

void dk_pkgcheck_event(dk_pkgcheck *c, const dk_event *ev, dk_event_cb emit, void *ctx)
{
    if (ev->kind == DK_EV_WRITE)
        on_write(c, ev, emit, ctx);
    else if (ev->kind == DK_EV_INIT)
        on_init(c, ev, emit, ctx);
}

bool dk_pkgcheck_ok(const dk_pkgcheck *c)
{
    for (unsigned i = 0; i < SLOTS; i++)
        if (c->s[i].diff || c->s[i].init_diff)
            return false;
    return true;
}

const dk_pkg_report *dk_pkgcheck_report(dk_pkgcheck *c)
{
    dk_pkg_report *r = &c->rep;
    memset(r, 0, sizeof *r);
    r->file = c->name;
    r->ok = dk_pkgcheck_ok(c);
    unsigned last = c->used < SLOTS ? c->used : SLOTS - 1;
    for (unsigned i = 1; i <= last; i++) {
        const slot *sl = &c->s[i];
        if (sl->img < 0)
            continue;
        const dk_image *im = &c->pkg->img[sl->img];
        r->img[r->n++] = (dk_pkg_image_report){
            .image = i,
            .bin = im->bin_name,
            .dat = im->dat_name,
            .init_seen = sl->init_seen,
            .init_diff = sl->init_diff,
            .init_first = sl->init_first,
            .checked = sl->checked,
            .diff = sl->diff,
            .first = sl->first,
        };
    }
    return r;
}
