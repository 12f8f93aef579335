/* plot.c - the plot consumer: session events -> line points, marks and port
 * gaps, in bounded memory (see plot.h); plot_svg.c draws them. */
#include "plot_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/tables.h"

dk_plot *dk_plot_new(const dk_plot_opts *o)
{
    dk_plot *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (o)
        p->o = *o;
    if (!p->o.max_points)
        p->o.max_points = DK_PLOT_POINTS;
    if (p->o.max_points < 64)
        p->o.max_points = 64;
    if (!p->o.width || !p->o.height) {
        p->o.width = 1200;
        p->o.height = 720;
    }
    snprintf(p->title, sizeof p->title, "%s", o && o->title ? o->title : "");
    p->o.title = p->title;
    p->cap_pts = p->o.max_points;
    p->pts = calloc(p->cap_pts, sizeof *p->pts);
    p->mk = calloc(DK_PLOT_MARKS, sizeof *p->mk);
    p->ex = calloc(DK_PLOT_ROUTINE, sizeof *p->ex);
    if (!p->pts || !p->mk || !p->ex) {
        dk_plot_free(p);
        return NULL;
    }
    p->keep = 4;
    p->ex_stride = 1;
    return p;
}

void dk_plot_free(dk_plot *p)
{
    if (!p)
        return;
    free(p->pts);
    free(p->mk);
    free(p->ex);
    free(p);
}

void dk_plot_get_stats(const dk_plot *p, dk_plot_stats *st)
{
    memset(st, 0, sizeof *st);
    st->by_time = p->mode == PLOT_TIME;
    st->points = p->n_pts;
    st->points_seen = p->pts_seen;
    st->marks = p->n_mk + p->n_ex;
    st->marks_left_out = p->mk_left_out;
    st->routine_stride = p->ex_stride;
    st->gaps = p->n_gaps + (p->closed ? 1 : 0);
    st->gaps_left_out = p->gaps_left_out;
    st->images = p->max_img;
}

int dk_plot_write(const dk_plot *p, FILE *out)
{
    return dk_plot_svg(p, out);
}

/* ---- coordinates ------------------------------------------------------ */

static void extend_x(dk_plot *p, double x)
{
    if (!p->any) {
        p->xmin = p->xmax = x;
        p->any = true;
    }
    if (x < p->xmin)
        p->xmin = x;
    if (x > p->xmax)
        p->xmax = x;
}

static void extend(dk_plot *p, double x, uint32_t y)
{
    extend_x(p, x);
    if (y > p->ymax)
        p->ymax = y;
}

/* Where an event goes on the x axis: seconds since the first timed event,
 * or the byte position when the input has no time (the first event
 * decides).  Without its own, an event takes the latest x. */
static double x_of(dk_plot *p, int64_t t, uint64_t pos, dk_dir dir)
{
    if (p->mode == PLOT_NONE) {
        p->mode = t >= 0 ? PLOT_TIME : PLOT_POS;
        p->t0 = t;
    }
    double x;
    if (p->mode == PLOT_TIME && t >= 0)
        x = (double)(t - p->t0) / 1e6;
    else if (p->mode == PLOT_POS && !(p->o.split && dir == DK_DIR_TARGET))
        x = (double)pos;
    else
        return p->x_last;
    if (x > p->x_last || !p->any)
        p->x_last = x;
    extend_x(p, x);
    return x;
}

/* ---- line points ------------------------------------------------------ */

/* floor() without libm, for bucket numbers. */
static double fl(double v)
{
    double i = (double)(long long)v;
    return i > v ? i - 1 : i;
}

/* Merge runs of consecutive points of one image that fall in one bucket of
 * width w: each keeps its first point, then (keep 2) its last, then (keep
 * 4) its lowest and highest, and every pinned point, in order.  In place;
 * returns the points left. */
static unsigned merge(plot_pt *v, unsigned n, double x0, double w, int keep)
{
    unsigned out = 0, i = 0;
    while (i < n) {
        double b = fl((v[i].x - x0) / w);
        unsigned j = i + 1, lo = i, hi = i;
        while (j < n && v[j].img == v[i].img && fl((v[j].x - x0) / w) == b) {
            if (v[j].y < v[lo].y)
                lo = j;
            if (v[j].y > v[hi].y)
                hi = j;
            j++;
        }
        for (unsigned k = i; k < j; k++)
            if (k == i || v[k].pin || (keep >= 2 && k == j - 1) ||
                (keep >= 4 && (k == lo || k == hi)))
                v[out++] = v[k];
        i = j;
    }
    return out;
}

/* The store is full: merge until half of it is free, with buckets that
 * double in width, then with fewer points a bucket. */
static void compact(dk_plot *p)
{
    double lo = p->pts[0].x, hi = lo;
    for (unsigned i = 1; i < p->n_pts; i++) {
        if (p->pts[i].x < lo)
            lo = p->pts[i].x;
        if (p->pts[i].x > hi)
            hi = p->pts[i].x;
    }
    double span = hi - lo > 0 ? hi - lo : 1;
    if (p->bucket <= 0) {
        p->bx0 = lo;
        p->bucket = span / (p->cap_pts / 8);
    }
    unsigned target = p->cap_pts / 2;
    for (;;) {
        for (int i = 0; i < 64; i++) {
            p->n_pts = merge(p->pts, p->n_pts, p->bx0, p->bucket, p->keep);
            if (p->n_pts <= target)
                return;
            if (p->bucket > 2 * (hi - p->bx0 + span))
                break; /* one bucket holds everything */
            p->bucket *= 2;
        }
        /* Still over: many images, or many pinned points.  Some room is
         * enough to go on with; else fewer points a bucket (at 1: later
         * points are counted, not kept). */
        if (p->n_pts <= p->cap_pts - p->cap_pts / 8 || p->keep == 1)
            return;
        p->keep /= 2;
    }
}

static void point(dk_plot *p, double x, uint32_t y, unsigned img, bool pin)
{
    p->pts_seen++;
    if (img == 0)
        return;
    /* An image's line goes forward in x. */
    if (img != p->line_img) {
        p->line_img = img;
        p->line_x = x;
        for (unsigned i = p->n_pts; i-- > 0;)
            if (p->pts[i].img == img) {
                p->line_x = p->pts[i].x;
                break;
            }
    }
    if (x < p->line_x)
        x = p->line_x;
    p->line_x = x;
    if (p->n_pts == p->cap_pts)
        compact(p);
    if (p->n_pts == p->cap_pts) {
        p->pts_dropped++;
        return;
    }
    p->pts[p->n_pts++] = (plot_pt){ .x = x, .y = y, .img = img, .pin = pin };
    extend(p, x, y);
}

/* ---- marks ------------------------------------------------------------ */

static plot_mark *mark(dk_plot *p, plot_mark_kind kind, double x, uint32_t y, unsigned img,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static plot_mark *mark(dk_plot *p, plot_mark_kind kind, double x, uint32_t y, unsigned img,
                       const char *fmt, ...)
{
    p->mk_count[kind]++;
    plot_mark *m;
    if (kind == MK_EXEC || kind == MK_INIT || kind == MK_DONE) {
        /* Routine marks: every ex_stride-th; when full, every second goes. */
        if (p->ex_seen++ % p->ex_stride != 0)
            return NULL;
        if (p->n_ex == DK_PLOT_ROUTINE) {
            for (unsigned i = 0; i < p->n_ex / 2; i++)
                p->ex[i] = p->ex[2 * i];
            p->n_ex /= 2;
            p->ex_stride *= 2;
            if ((p->ex_seen - 1) % p->ex_stride != 0)
                return NULL;
        }
        m = &p->ex[p->n_ex++];
    } else {
        if (p->n_mk == DK_PLOT_MARKS) {
            p->mk_left_out++;
            return NULL;
        }
        m = &p->mk[p->n_mk++];
    }
    memset(m, 0, sizeof *m);
    m->x = x;
    m->y = y;
    m->img = img;
    m->kind = (uint8_t)kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->text, sizeof m->text, fmt, ap);
    va_end(ap);
    extend(p, x, y);
    return m;
}

/* The current offset of image img (0 for another image). */
static uint32_t off_of(const dk_plot *p, unsigned img)
{
    return img == p->cur_img ? p->cur_off : 0;
}

/* ---- events ----------------------------------------------------------- */

/* Image img starts here (x): the current one from now on. */
static void image_seen(dk_plot *p, unsigned img, double x)
{
    if (img > p->max_img)
        p->max_img = img;
    p->cur_img = img;
    p->cur_off = 0;
    p->lost = false;
    if (img >= 1 && img <= DK_SESSION_MAX_IMAGES)
        p->img_x0[img - 1] = x;
}

static void on_image(dk_plot *p, const dk_event *ev)
{
    const dk_image_ev *im = &ev->u.img;
    double x = x_of(p, ev->t_us, ev->start, ev->dir);
    if (im->done) {
        if (im->index > p->max_img)
            p->max_img = im->index;
        p->cur_off = im->size;
        point(p, x, im->size, im->index, false);
        mark(p, MK_DONE, x, im->size, im->index, "image %u completed: %u bytes, crc 0x%08x",
             im->index, (unsigned)im->size, (unsigned)im->crc);
        return;
    }
    image_seen(p, im->index, x);
    if (im->cmd_size) /* created here: it starts from 0 */
        point(p, x, 0, im->index, false);
}

static void on_writes(dk_plot *p, const dk_event *ev)
{
    const dk_writes *r = &ev->u.run;
    if (r->obj_type != DK_OBJ_DATA)
        return;
    double x1 = x_of(p, r->t_first, ev->start, DK_DIR_HOST);
    double x2 = x_of(p, r->t_last, ev->end, DK_DIR_HOST);
    bool restart = p->lost && r->off_start == 0 && ev->image == p->cur_img;
    if (p->create_due && ev->image == p->cur_img && r->off_start < p->cur_off) {
        /* a CREATE threw bytes away: the line drops where it was sent */
        point(p, p->create_x, p->cur_off, ev->image, false);
        point(p, p->create_x, r->off_start, ev->image, false);
    }
    p->create_due = false;
    point(p, x1, r->off_start, ev->image, restart);
    if (restart) {
        p->lost = false;
        mark(p, MK_RESTART, x1, 0, ev->image,
             "restart: the target lost its progress, the data goes again from 0");
    }
    point(p, x2, r->off_end, ev->image, false);
    if (ev->image == p->cur_img)
        p->cur_off = r->off_end;
}

static void on_execute(dk_plot *p, const dk_exchange *x, double at, unsigned img)
{
    char b1[DK_NAME_BUFSZ], b2[DK_NAME_BUFSZ];
    bool data = x->obj_type == DK_OBJ_DATA;
    uint32_t y = data ? off_of(p, img) : 0;
    const char *what = data ? "data object" : "init packet";
    if (!x->has_rsp) {
        mark(p, MK_EXEC_NONE, at, y, img, "%s EXECUTE at offset %u: never answered", what,
             (unsigned)y);
    } else if (x->rsp.result != DK_RES_SUCCESS) {
        mark(p, MK_EXEC_BAD, at, y, img, "%s EXECUTE at offset %u refused: %s%s%s", what,
             (unsigned)y, dk_result_str(x->rsp.result, b1), x->rsp.has_ext ? " " : "",
             x->rsp.has_ext ? dk_ext_str(x->rsp.ext, b2) : "");
    } else if (data) {
        if (img && img == p->cur_img) /* the line goes on to it */
            point(p, at, y, img, false);
        mark(p, MK_EXEC, at, y, img, "data object executed at offset %u", (unsigned)y);
    } else {
        mark(p, MK_INIT, at, 0, img, "init packet executed");
    }
}

static void on_exchange(dk_plot *p, const dk_event *ev)
{
    const dk_exchange *x = &ev->u.x;
    if (!x->has_req)
        return;
    double at = x->has_rsp && x->t_rsp >= 0 ? x_of(p, x->t_rsp, x->rsp_start, DK_DIR_TARGET)
                                             : x_of(p, x->t_req, x->req_start, DK_DIR_HOST);
    unsigned img = ev->image;
    if (x->req.op == DK_OP_OBJECT_EXECUTE) {
        on_execute(p, x, at, img);
        return;
    }
    if (x->req.op == DK_OP_OBJECT_CREATE && x->req.req.create.type == DK_OBJ_DATA) {
        p->create_x = x_of(p, x->t_req, x->req_start, DK_DIR_HOST);
        p->create_due = true;
        return;
    }
    if (x->req.op == DK_OP_OBJECT_SELECT && x->has_rsp && x->rsp.result == DK_RES_SUCCESS &&
        x->req.req.select.type == DK_OBJ_DATA && img && img == p->cur_img) {
        uint32_t off = x->rsp.rsp.select.offset;
        if (off == 0 && p->cur_off > 0)
            p->lost = true;
        point(p, at, off, img, false);
        p->cur_off = off;
    }
}

static void on_resume(dk_plot *p, const dk_event *ev)
{
    const dk_resume_ev *r = &ev->u.resume;
    double x = x_of(p, ev->t_us, ev->start, DK_DIR_HOST);
    bool data = r->obj_type == DK_OBJ_DATA;
    uint32_t y = data ? r->from : off_of(p, ev->image);
    plot_mark_kind k = r->how == DK_RESUME_RESTART          ? MK_RESTART
                       : r->how == DK_RESUME_OBJECT_RESTART ? MK_OBJ_RESTART
                                                            : MK_RESUME;
    const char *how = k == MK_RESTART          ? "the host starts the image over"
                      : k == MK_OBJ_RESTART    ? "the host sends the object again from"
                      : data                   ? "the host goes on from"
                                               : "the host executes the init packet it holds";
    char from[16] = "";
    if (data && k != MK_RESTART)
        snprintf(from, sizeof from, " %u", (unsigned)r->from);
    plot_mark *m = mark(p, k, x, y, ev->image, "%s: SELECT %s reported offset %u crc 0x%08x; %s%s",
                        k == MK_RESUME ? "resume" : "restart", data ? "data" : "command",
                        (unsigned)r->offset, (unsigned)r->crc, how, from);
    if (data && k != MK_RESTART) {
        point(p, x, r->from, ev->image, m != NULL);
        if (ev->image == p->cur_img)
            p->cur_off = r->from;
    }
}

/* A port-closed stretch.  When full, the shortest (this one, or one kept)
 * is left out and counted: merging two would shade the open time between. */
static void gap_add(dk_plot *p, double a, double b)
{
    if (p->n_gaps == DK_PLOT_GAPS) {
        unsigned s = 0;
        for (unsigned i = 1; i < p->n_gaps; i++)
            if (p->gaps[i].b - p->gaps[i].a < p->gaps[s].b - p->gaps[s].a)
                s = i;
        p->gaps_left_out++;
        if (b - a <= p->gaps[s].b - p->gaps[s].a)
            return;
        memmove(p->gaps + s, p->gaps + s + 1, (p->n_gaps - s - 1) * sizeof p->gaps[0]);
        p->n_gaps--;
    }
    p->gaps[p->n_gaps++] = (plot_gap){ .a = a, .b = b };
}

static void on_port(dk_plot *p, const dk_event *ev)
{
    double x = x_of(p, ev->t_us, ev->start, DK_DIR_UNKNOWN);
    extend(p, x, 0);
    if (!ev->u.port.open) {
        if (!p->closed) {
            p->closed = true;
            p->closed_x = x;
        }
    } else if (p->closed) {
        p->closed = false;
        gap_add(p, p->closed_x, x);
    }
}

static void on_anomaly(dk_plot *p, const dk_event *ev)
{
    const dk_anomaly *a = &ev->u.an;
    double x = x_of(p, ev->t_us, ev->start, a->dir);
    plot_mark *m = mark(p, MK_ANOMALY, x, off_of(p, ev->image), ev->image, "%s: %s",
                        dk_anomaly_name(a->id) ? dk_anomaly_name(a->id) : "?", a->text);
    if (m) {
        m->sev = (uint8_t)a->severity;
        m->an = (int16_t)a->id;
    }
}

static void on_summary(dk_plot *p, const dk_event *ev)
{
    p->sum = *ev->u.sum;
    p->sum.diag = NULL;
    p->have_sum = true;
    snprintf(p->diag_id, sizeof p->diag_id, "%s", ev->u.sum->diag ? ev->u.sum->diag->id : "");
    unsigned n = p->sum.n_images < DK_SESSION_MAX_IMAGES ? p->sum.n_images : DK_SESSION_MAX_IMAGES;
    if (p->sum.n_images > p->max_img)
        p->max_img = p->sum.n_images;
    if (p->cur_img && p->sum.t_last >= 0) /* the last image's line goes to the end */
        point(p, x_of(p, p->sum.t_last, 0, DK_DIR_UNKNOWN), p->cur_off, p->cur_img, false);
    for (unsigned i = 0; i < n; i++) {
        if (p->sum.img[i].size > p->ymax)
            p->ymax = p->sum.img[i].size;
        if (p->sum.img[i].restart)
            mark(p, MK_RESTART, p->img_x0[i], 0, i + 1,
                 "restart: image %u has the init packet of the image before, which did not "
                 "complete: the update starts over", i + 1);
    }
}

void dk_plot_event(void *ctx, const dk_event *ev)
{
    dk_plot *p = ctx;
    /* The first event decides the axis (an exchange's time is its
     * request's: the earliest it has). */
    if (p->mode == PLOT_NONE && ev->kind != DK_EV_SUMMARY && ev->kind != DK_EV_PACKAGE &&
        ev->kind != DK_EV_TOOL && ev->kind != DK_EV_LOG)
        x_of(p, ev->t_us, ev->start, ev->dir);
    /* A tracker without IMAGE events (legacy HCI) numbers its images in
     * every event: the first event of a new one starts it. */
    if (ev->image > p->max_img && ev->kind != DK_EV_IMAGE && ev->kind != DK_EV_SUMMARY)
        image_seen(p, ev->image, x_of(p, ev->t_us, ev->start, ev->dir));
    switch (ev->kind) {
    case DK_EV_IMAGE: on_image(p, ev); break;
    case DK_EV_WRITES: on_writes(p, ev); break;
    case DK_EV_EXCHANGE: on_exchange(p, ev); break;
    case DK_EV_RESUME: on_resume(p, ev); break;
    case DK_EV_PORT: on_port(p, ev); break;
    case DK_EV_ANOMALY: on_anomaly(p, ev); break;
    case DK_EV_SUMMARY: on_summary(p, ev); break;
    default: break;
    }
}
