/* plot_svg.c - the SVG of a plot (plot.h): title, port gaps, axes, one
 * polyline per image, marks, legend.  Pixels, y downwards; the x axis maps
 * real x (seconds or bytes) piecewise, long port gaps drawn narrower. */
#include "plot_int.h"

#include <string.h>

#include "dfukit/tables.h"

#define LEGEND_W 310 /* pixels right of the plot area */
#define MAX_LABELS 48
#define MAX_CUTS 16  /* port gaps drawn narrower than they last */

static const char *const palette[] = { "#1f77b4", "#2ca02c", "#9467bd", "#8c564b",
                                       "#17becf", "#bcbd22", "#e377c2", "#7f7f7f" };
#define N_PAL (sizeof palette / sizeof palette[0])
#define RED "#d62728"
#define ORANGE "#ff7f0e"
#define GREY "#7f7f7f"
#define GREEN "#1a7f37"
#define PURPLE "#8e44ad"

typedef struct {
    double l, r, t, b;            /* plot area */
    double lo, hi, dspan;         /* real x range, displayed span (real units) */
    plot_gap gap[DK_PLOT_GAPS + 1];
    double gw[DK_PLOT_GAPS + 1];  /* displayed width of each gap; its length if not cut */
    unsigned n_gap;
    double xscale;                /* tick labels: x / xscale */
    const char *xtitle;
    double yscale, ytop;          /* y / yscale in [0, ytop] */
    const char *ytitle;
} frame;

/* ---- numbers ---------------------------------------------------------- */

static double fl(double v)
{
    double i = (double)(long long)v;
    return i > v ? i - 1 : i;
}

static double ce(double v)
{
    return -fl(-v);
}

/* A 1-2-5 step that cuts range into about n parts. */
static double nice_step(double range, int n)
{
    double raw = range > 0 ? range / n : 1, mag = 1;
    while (mag * 10 <= raw)
        mag *= 10;
    while (mag > raw)
        mag /= 10;
    double f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* Decimals that show multiples of step exactly. */
static int decimals(double step)
{
    int d = 0;
    double s = step;
    while (d < 6 && s - fl(s + 1e-9) > 1e-6) {
        s *= 10;
        d++;
    }
    return d;
}

/* ---- XML text --------------------------------------------------------- */

/* Length of a valid UTF-8 sequence at u (2-4 bytes), 0 if none. */
static size_t utf8_len(const unsigned char *u)
{
    size_t n = u[0] >= 0xF0 && u[0] <= 0xF4 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC2 && u[0] < 0xE0 ? 2 : 0;
    if (u[0] >= 0xF5)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((u[i] & 0xC0) != 0x80)
            return 0;
    if ((n == 3 && u[0] == 0xE0 && u[1] < 0xA0) || (n == 3 && u[0] == 0xED && u[1] >= 0xA0) ||
        (n == 4 && u[0] == 0xF0 && u[1] < 0x90) || (n == 4 && u[0] == 0xF4 && u[1] >= 0x90))
        return 0; /* overlong, surrogate, beyond U+10FFFF */
    return n;
}

/* s as XML character data or attribute value: markup escaped, control
 * bytes and bytes that are not UTF-8 (a file name may hold any) as '?'. */
static void xml(FILE *f, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u;
        size_t n = 1;
        if (c == '&')
            fputs("&amp;", f);
        else if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c < 0x20 || c == 0x7F)
            putc('?', f);
        else if (c < 0x80)
            putc((int)c, f);
        else if ((n = utf8_len(u)) > 0)
            fwrite(u, 1, n, f);
        else {
            putc('?', f);
            n = 1;
        }
        u += n;
    }
}

/* ---- the frame -------------------------------------------------------- */

static double xpx(const frame *fr, double x)
{
    double d = x - fr->lo;
    for (unsigned i = 0; i < fr->n_gap; i++) {
        const plot_gap *g = &fr->gap[i];
        double len = g->b - g->a;
        if (fr->gw[i] >= len)
            continue;
        if (x >= g->b)
            d -= len - fr->gw[i];
        else if (x > g->a)
            d -= (x - g->a) * (1 - fr->gw[i] / len);
    }
    return fr->l + d / fr->dspan * (fr->r - fr->l);
}

static double ypx(const frame *fr, double y)
{
    return fr->b - y / fr->yscale / fr->ytop * (fr->b - fr->t);
}

static void units(double max, double *scale, const char **unit)
{
    *scale = max >= 10.0 * 1048576 ? 1048576 : max >= 10240 ? 1024 : 1;
    *unit = *scale == 1048576 ? "MiB" : *scale == 1024 ? "KiB" : "bytes";
}

/* The x range, the port gaps (one still open runs to the end), which of
 * them are drawn narrower, and both axes' units. */
static void frame_make(const dk_plot *p, frame *fr, char *xt, size_t xtn, char *yt, size_t ytn)
{
    memset(fr, 0, sizeof *fr);
    fr->l = 80;
    fr->r = p->o.width - LEGEND_W;
    fr->t = 78;
    fr->b = p->o.height - 70;
    fr->lo = p->any && p->xmin < 0 ? p->xmin : 0; /* from the first event, or the input's start */
    fr->hi = p->any ? p->xmax : 1;
    if (fr->hi <= fr->lo)
        fr->hi = fr->lo + (p->mode == PLOT_TIME ? 1 : 16);
    memcpy(fr->gap, p->gaps, p->n_gaps * sizeof p->gaps[0]);
    fr->n_gap = p->n_gaps;
    if (p->closed)
        fr->gap[fr->n_gap++] = (plot_gap){ .a = p->closed_x, .b = fr->hi };
    double span = fr->hi - fr->lo, closed = 0;
    for (unsigned i = 0; i < fr->n_gap; i++)
        closed += fr->gap[i].b - fr->gap[i].a;
    double active = span - closed > span * 0.02 ? span - closed : span * 0.02;
    /* Gaps longer than 15% of the open time are drawn 10% wide: the
     * MAX_CUTS longest of them. */
    fr->dspan = span;
    for (unsigned i = 0; i < fr->n_gap; i++) {
        double len = fr->gap[i].b - fr->gap[i].a;
        unsigned longer = 0;
        for (unsigned k = 0; k < fr->n_gap && longer < MAX_CUTS; k++)
            longer += fr->gap[k].b - fr->gap[k].a > len || (fr->gap[k].b - fr->gap[k].a == len && k < i);
        fr->gw[i] = len > 0.15 * active && longer < MAX_CUTS ? 0.1 * active : len;
        fr->dspan -= len - fr->gw[i];
    }
    const char *u;
    if (p->mode == PLOT_TIME) {
        fr->xscale = fr->dspan < 1 ? 1e-3 : 1;
        u = fr->xscale < 1 ? "ms" : "s";
        snprintf(xt, xtn, "time since the first event (%s)", u);
    } else {
        units(fr->hi, &fr->xscale, &u);
        snprintf(xt, xtn, "position in the %s (%s; the input has no time stamps)",
                 p->o.split ? "host file" : "input", u);
    }
    fr->xtitle = xt;
    units(p->ymax, &fr->yscale, &u);
    double ymax = p->ymax ? p->ymax / fr->yscale : 1;
    double step = nice_step(ymax, 6);
    fr->ytop = ce(ymax / step) * step;
    snprintf(yt, ytn, "offset in the image (%s)", u);
    fr->ytitle = yt;
}

/* ---- axes ------------------------------------------------------------- */

static void x_ticks(FILE *f, const frame *fr)
{
    double step = nice_step(fr->dspan / fr->xscale, 8) * fr->xscale;
    int dec = decimals(step / fr->xscale);
    double last = -1e9, s0 = fr->lo;
    for (unsigned i = 0; i <= fr->n_gap; i++) {
        bool cut = i < fr->n_gap && fr->gw[i] < fr->gap[i].b - fr->gap[i].a;
        if (i < fr->n_gap && !cut)
            continue;
        double s1 = i < fr->n_gap ? fr->gap[i].a : fr->hi;
        for (double k = ce(s0 / step); k * step <= s1 + step * 1e-9; k++) {
            double px = xpx(fr, k * step);
            if (px - last < 48 || px < fr->l - 0.5 || px > fr->r + 0.5)
                continue;
            last = px;
            fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#eee\"/>\n", px, fr->t, px, fr->b);
            fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#333\"/>\n", px, fr->b, px, fr->b + 5);
            double v = k * step / fr->xscale;
            fprintf(f, "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                       "%.*f</text>\n", px, fr->b + 18, dec, v == 0 ? 0.0 : v); /* not -0 */
        }
        if (i < fr->n_gap) {
            /* the axis breaks here: two slashes */
            double m = (xpx(fr, fr->gap[i].a) + xpx(fr, fr->gap[i].b)) / 2;
            fprintf(f, "<path class=\"axis-break\" d=\"M%.1f,%.1f l6,-10 M%.1f,%.1f l6,-10\" "
                       "stroke=\"#333\" stroke-width=\"1.5\"/>\n", m - 6, fr->b + 5, m, fr->b + 5);
            s0 = fr->gap[i].b;
        }
    }
}

static void axes(FILE *f, const frame *fr)
{
    double step = nice_step(fr->ytop, 6);
    int dec = decimals(step);
    for (double k = 0; k * step <= fr->ytop + step * 1e-9; k++) {
        double y = ypx(fr, k * step * fr->yscale);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#eee\"/>\n", fr->l, y, fr->r, y);
        fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#333\"/>\n", fr->l - 5, y, fr->l, y);
        fprintf(f, "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f"
                   "</text>\n", fr->l - 8, y + 4, dec, k * step);
    }
    x_ticks(f, fr);
    fprintf(f, "<rect class=\"plot-area\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"none\" stroke=\"#333\"/>\n", fr->l, fr->t, fr->r - fr->l, fr->b - fr->t);
    fprintf(f, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            (fr->l + fr->r) / 2, fr->b + 40);
    xml(f, fr->xtitle);
    fprintf(f, "</text>\n<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 %.1f %.1f)\">", 22.0, (fr->t + fr->b) / 2, 22.0,
            (fr->t + fr->b) / 2);
    xml(f, fr->ytitle);
    fputs("</text>\n", f);
}

static void gaps(FILE *f, const dk_plot *p, const frame *fr)
{
    for (unsigned i = 0; i < fr->n_gap; i++) {
        const plot_gap *g = &fr->gap[i];
        double a = xpx(fr, g->a), b = xpx(fr, g->b);
        fprintf(f, "<rect class=\"port-gap\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                   "fill=\"#e4e4e4\"><title>", a, fr->t, b - a > 1 ? b - a : 1, fr->b - fr->t);
        bool open_end = p->closed && i == fr->n_gap - 1;
        if (p->mode == PLOT_TIME)
            fprintf(f, "port closed %.3f s%s", g->b - g->a, open_end ? " (until the end)" : "");
        else
            fputs("port closed", f);
        fputs("</title></rect>\n", f);
        if (b - a < 14)
            continue;
        fprintf(f, "<text class=\"gap-label\" x=\"%.1f\" y=\"%.1f\" fill=\"#555\" "
                   "font-size=\"11\" transform=\"rotate(-90 %.1f %.1f)\" text-anchor=\"end\">"
                   "port closed", (a + b) / 2 + 4, fr->t + 8, (a + b) / 2 + 4, fr->t + 8);
        if (p->mode == PLOT_TIME)
            fprintf(f, " %.*f s", g->b - g->a < 10 ? 2 : 1, g->b - g->a);
        fputs("</text>\n", f);
    }
}

/* ---- lines and marks -------------------------------------------------- */

static const char *img_colour(unsigned img)
{
    return palette[(img ? img - 1 : 0) % N_PAL];
}

static void lines(FILE *f, const dk_plot *p, const frame *fr)
{
    for (unsigned i = 0; i < p->n_pts;) {
        unsigned img = p->pts[i].img, j = i;
        fprintf(f, "<polyline class=\"image\" data-image=\"%u\" fill=\"none\" stroke=\"%s\" "
                   "stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"", img, img_colour(img));
        for (; j < p->n_pts && p->pts[j].img == img; j++)
            fprintf(f, "%s%.1f,%.1f", j > i ? " " : "", xpx(fr, p->pts[j].x), ypx(fr, p->pts[j].y));
        if (j == i + 1) /* one point: a dot */
            fprintf(f, " %.1f,%.1f", xpx(fr, p->pts[i].x) + 1, ypx(fr, p->pts[i].y));
        fputs("\"/>\n", f);
        i = j;
    }
}

static const char *sev_colour(int sev)
{
    return sev == DK_SEV_ERROR ? RED : sev == DK_SEV_WARN ? ORANGE : GREY;
}

/* A mark's shape as path data, its fill and stroke. */
static void shape(FILE *f, int kind, double x, double y, const char *col, int sev)
{
    const char *fill = col, *stroke = "#222";
    switch (kind) {
    case MK_EXEC:
    case MK_EXEC_BAD:
        if (kind == MK_EXEC_BAD)
            fill = RED;
        fprintf(f, "d=\"M%.1f,%.1f l4,4 -4,4 -4,-4z\"", x, y - 4);
        break;
    case MK_EXEC_NONE:
        fill = "#fff";
        stroke = RED;
        fprintf(f, "d=\"M%.1f,%.1f l4,4 -4,4 -4,-4z\"", x, y - 4);
        break;
    case MK_INIT: fprintf(f, "d=\"M%.1f,%.1f h7 v7 h-7z\"", x - 3.5, y - 3.5); break;
    case MK_RESUME:
        fill = GREEN;
        fprintf(f, "d=\"M%.1f,%.1f l9,6 -9,6z\"", x - 3, y - 6);
        break;
    case MK_OBJ_RESTART:
        fill = "#fff";
        stroke = PURPLE;
        fprintf(f, "d=\"M%.1f,%.1f l-9,6 9,6z\"", x + 3, y - 6);
        break;
    case MK_RESTART:
        fill = PURPLE;
        fprintf(f, "d=\"M%.1f,%.1f l-9,6 9,6z\"", x + 3, y - 6);
        break;
    case MK_DONE:
        fill = "none";
        stroke = GREEN;
        fprintf(f, "d=\"M%.1f,%.1f l4,5 8,-11\" stroke-width=\"2.5\"", x - 5, y - 2);
        break;
    default: /* MK_ANOMALY */
        fill = sev_colour(sev);
        stroke = "#fff";
        fprintf(f, "d=\"M%.1f,%.1f a5,5 0 1,0 10,0 a5,5 0 1,0 -10,0z\"", x - 5, y);
        break;
    }
    fprintf(f, " fill=\"%s\" stroke=\"%s\"", fill, stroke);
}

static const char *const kind_class[MK_KINDS] = {
    [MK_EXEC] = "exec",       [MK_EXEC_BAD] = "exec failed", [MK_EXEC_NONE] = "exec unanswered",
    [MK_INIT] = "init",       [MK_RESUME] = "resume",        [MK_OBJ_RESTART] = "object-restart",
    [MK_RESTART] = "restart", [MK_DONE] = "done",            [MK_ANOMALY] = "anomaly",
};

static void mark_one(FILE *f, const plot_mark *m, double x, double y)
{
    fprintf(f, "<path class=\"%s", kind_class[m->kind]);
    if (m->kind == MK_ANOMALY)
        fprintf(f, " %s\" data-id=\"%s", dk_severity_name((dk_severity)m->sev),
                dk_anomaly_name((dk_anomaly_id)m->an));
    fprintf(f, "\" data-image=\"%u\" ", m->img);
    shape(f, m->kind, x, y, img_colour(m->img), m->sev);
    fputs("><title>", f);
    xml(f, m->text);
    fputs("</title></path>\n", f);
}

/* Anomaly ids beside their marks: the same id close to where it was said
 * already is left out, other ids stack upwards. */
static void labels(FILE *f, const dk_plot *p, const frame *fr)
{
    struct { double x, y; int an; } done[MAX_LABELS];
    unsigned n = 0;
    for (unsigned i = 0; i < p->n_mk && n < MAX_LABELS; i++) {
        const plot_mark *m = &p->mk[i];
        if (m->kind != MK_ANOMALY)
            continue;
        double x = xpx(fr, m->x), y = ypx(fr, m->y) - 8;
        bool skip = false;
        for (unsigned k = 0; k < n && !skip; k++) {
            if (done[k].x > x - 70 && done[k].x < x + 70 && done[k].y > y - 13 && done[k].y < y + 13) {
                if (done[k].an == m->an)
                    skip = true;
                else {
                    y = done[k].y - 14;
                    k = (unsigned)-1; /* look again from the start at the new height */
                }
            }
        }
        if (skip || y < fr->t + 4)
            continue;
        done[n].x = x;
        done[n].y = y;
        done[n++].an = m->an;
        const char *id = dk_anomaly_name((dk_anomaly_id)m->an);
        bool left = x + 6 + 6.5 * (double)strlen(id) > fr->r; /* would run into the legend */
        fprintf(f, "<text class=\"anomaly-label\" x=\"%.1f\" y=\"%.1f\" fill=\"%s\" "
                   "font-size=\"11\"%s>%s</text>\n", left ? x - 6 : x + 6, y, sev_colour(m->sev),
                left ? " text-anchor=\"end\"" : "", id);
    }
}

static void marks(FILE *f, const dk_plot *p, const frame *fr)
{
    for (unsigned i = 0; i < p->n_ex; i++)
        mark_one(f, &p->ex[i], xpx(fr, p->ex[i].x), ypx(fr, p->ex[i].y));
    for (int pass = 0; pass < 2; pass++) /* anomalies on top */
        for (unsigned i = 0; i < p->n_mk; i++)
            if ((p->mk[i].kind == MK_ANOMALY) == (pass == 1))
                mark_one(f, &p->mk[i], xpx(fr, p->mk[i].x), ypx(fr, p->mk[i].y));
    labels(f, p, fr);
}

/* ---- title and legend ------------------------------------------------- */

static void title(FILE *f, const dk_plot *p)
{
    fputs("<text class=\"title\" x=\"20\" y=\"30\" font-size=\"17\" font-weight=\"bold\">", f);
    xml(f, p->title[0] ? p->title : "(input)");
    if (p->have_sum)
        fprintf(f, ": %s%s%s%s", dk_outcome_name(p->sum.settled), p->diag_id[0] ? " (" : "",
                p->diag_id, p->diag_id[0] ? ")" : "");
    fputs("</text>\n", f);
    if (!p->have_sum)
        return;
    const dk_summary *s = &p->sum;
    fprintf(f, "<text class=\"subtitle\" x=\"20\" y=\"52\" font-size=\"13\" fill=\"#444\">"
               "%u image%s, %llu data bytes sent", s->n_images, s->n_images == 1 ? "" : "s",
            (unsigned long long)s->bytes_data);
    if (p->mode == PLOT_TIME && s->duration_s >= 0) {
        fprintf(f, ", %.2f s", s->duration_s);
        if (s->closed_s > 0)
            fprintf(f, " (%.2f s with the port closed)", s->closed_s);
    }
    fprintf(f, ", %u resume%s, %u restart%s, %u anomal%s</text>\n", s->resumes,
            s->resumes == 1 ? "" : "s", s->restarts, s->restarts == 1 ? "" : "s", s->anomalies,
            s->anomalies == 1 ? "y" : "ies");
}

/* What was left out to keep memory bounded, on one line at the bottom. */
static void footnote(FILE *f, const dk_plot *p)
{
    const char *sep = "";
    fprintf(f, "<text class=\"footnote\" x=\"20\" y=\"%u\" font-size=\"11\" fill=\"#666\">",
            p->o.height - 10);
    if (p->n_pts < p->pts_seen) {
        fprintf(f, "%u of %llu line points drawn (merged in time, extremes kept)", p->n_pts,
                (unsigned long long)p->pts_seen);
        sep = "; ";
    }
    if (p->ex_stride > 1) {
        fprintf(f, "%sone in %u EXECUTE/completed marks drawn", sep, p->ex_stride);
        sep = "; ";
    }
    if (p->gaps_left_out) {
        fprintf(f, "%s%llu shortest port gaps not drawn", sep,
                (unsigned long long)p->gaps_left_out);
        sep = "; ";
    }
    if (p->mk_left_out)
        fprintf(f, "%s%llu marks not drawn", sep, (unsigned long long)p->mk_left_out);
    fputs("</text>\n", f);
}

/* One image's line in the legend, and what became of it below; returns
 * the height used. */
static double legend_img(FILE *f, const dk_plot *p, unsigned i, double x, double y)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2.5\"/>\n<text x=\"%.1f\" y=\"%.1f\">image %u", x, y - 4, x + 22,
            y - 4, img_colour(i), x + 28, y, i);
    if (!p->have_sum || i > DK_SESSION_MAX_IMAGES || i > p->sum.n_images) {
        fputs("</text>\n", f);
        return 18;
    }
    const dk_image_sum *im = &p->sum.img[i - 1];
    char b[DK_NAME_BUFSZ];
    if (im->has_type)
        fprintf(f, ": %s", dk_fw_str(im->fw_type, b));
    if (im->size)
        fprintf(f, ", %u bytes", (unsigned)im->size);
    fprintf(f, "</text>\n<text x=\"%.1f\" y=\"%.1f\" fill=\"#555\">", x + 28, y + 15);
    if (im->completed)
        fputs("completed", f);
    else if (im->failed)
        fprintf(f, "failed at offset %u", (unsigned)im->offset);
    else
        fprintf(f, "stopped at offset %u", (unsigned)im->offset);
    if (im->restart)
        fputs(" (a restart)", f);
    fputs("</text>\n", f);
    return 34;
}

static void legend(FILE *f, const dk_plot *p, const frame *fr)
{
    static const char *const words[MK_KINDS] = {
        [MK_EXEC] = "data object executed", [MK_EXEC_BAD] = "EXECUTE refused",
        [MK_EXEC_NONE] = "EXECUTE not answered", [MK_INIT] = "init packet executed",
        [MK_RESUME] = "resume: the host went on", [MK_OBJ_RESTART] = "object sent again",
        [MK_RESTART] = "restart (image from 0)", [MK_DONE] = "image completed",
    };
    double x = fr->r + 24, y = fr->t + 4;
    fprintf(f, "<g class=\"legend\" font-size=\"11.5\">\n<text x=\"%.1f\" y=\"%.1f\" "
               "font-weight=\"bold\">Legend</text>\n", x, y);
    y += 20;
    unsigned nimg = p->max_img < N_PAL ? p->max_img : N_PAL;
    for (unsigned i = 1; i <= nimg; i++)
        y += legend_img(f, p, i, x, y);
    if (p->max_img > N_PAL) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">images %u to %u: the colours repeat</text>\n", x,
                y, (unsigned)N_PAL + 1, p->max_img);
        y += 18;
    }
    y += 6;
    for (int k = 0; k < MK_ANOMALY; k++) {
        if (!p->mk_count[k])
            continue;
        fprintf(f, "<path ");
        shape(f, k, x + 11, y - 4, img_colour(1), 0);
        fprintf(f, "/>\n<text x=\"%.1f\" y=\"%.1f\">%s (%u)</text>\n", x + 28, y, words[k],
                p->mk_count[k]);
        y += 18;
    }
    for (int sev = DK_SEV_ERROR; sev >= DK_SEV_INFO; sev--) {
        unsigned n = 0;
        for (unsigned i = 0; i < p->n_mk; i++)
            n += p->mk[i].kind == MK_ANOMALY && p->mk[i].sev == sev;
        if (!n)
            continue;
        fprintf(f, "<path ");
        shape(f, MK_ANOMALY, x + 11, y - 4, NULL, sev);
        fprintf(f, "/>\n<text x=\"%.1f\" y=\"%.1f\">anomaly, %s: its id beside it (%u)</text>\n",
                x + 28, y, dk_severity_name((dk_severity)sev), n);
        y += 18;
    }
    if (fr->n_gap)
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"12\" fill=\"#e4e4e4\"/>\n"
                   "<text x=\"%.1f\" y=\"%.1f\">port closed (DTR low)</text>\n", x, y - 10, x + 28, y);
    fputs("</g>\n", f);
}

int dk_plot_svg(const dk_plot *p, FILE *f)
{
    frame fr;
    char xt[96], yt[64];
    frame_make(p, &fr, xt, sizeof xt, yt, sizeof yt);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
               "viewBox=\"0 0 %u %u\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
               "font-size=\"12\">\n<title>",
            p->o.width, p->o.height, p->o.width, p->o.height);
    xml(f, p->title[0] ? p->title : "dfukit plot");
    fprintf(f, "</title>\n<rect class=\"background\" width=\"%u\" height=\"%u\" fill=\"#fff\"/>\n",
            p->o.width, p->o.height);
    title(f, p);
    gaps(f, p, &fr);
    axes(f, &fr);
    lines(f, p, &fr);
    marks(f, p, &fr);
    legend(f, p, &fr);
    footnote(f, p);
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}
