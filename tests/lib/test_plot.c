/* test_plot.c - the plot consumer (plot.h):
 *   - every bundled capture (and a raw one) gives well-formed XML (a small
 *     checker here: tags balanced, attributes quoted and unique, entities
 *     known, UTF-8 valid), each image's line goes forward in x, and every
 *     anomaly of the session is a mark with its dotted id;
 *   - the marks a capture is about are there: resume and port gap
 *     (resume), restart after a power cut (sim/cut-nosave), CRC mismatch and
 *     discarded object (sim/crc-corrupt), late answer (slow-execute),
 *     refused EXECUTE (sim/reject-sdreq); a raw file is drawn against byte
 *     positions and its axis says so;
 *   - memory stays bounded on a long synthetic session: points, marks and
 *     gaps are capped, the extremes of each image, every pinned resume point
 *     and the longest gaps survive, and the footnote says what was left out;
 *   - a file name that is not XML-safe (markup, control bytes, bytes that
 *     are not UTF-8) is escaped; a failing FILE makes dk_plot_write fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/capfile.h"
#include "dfukit/pipeline.h"
#include "dfukit/plot.h"

/* ---- a small XML well-formedness checker ------------------------------ */

typedef struct {
    const char *base, *s, *end;
    char err[160];
} xr;

static bool xfail(xr *r, const char *what)
{
    snprintf(r->err, sizeof r->err, "%s at byte %td: %.40s", what, r->s - r->base, r->s);
    return false;
}

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
}

static size_t xname(const char *s)
{
    size_t n = 0;
    while (name_char(s[n], n == 0))
        n++;
    return n;
}

/* Character data or an attribute value up to stop: entities known, no '<',
 * UTF-8 valid, no control bytes but TAB/LF/CR. */
static bool xtext(xr *r, char stop)
{
    while (r->s < r->end && *r->s != stop) {
        unsigned char c = (unsigned char)*r->s;
        if (c == '<')
            return xfail(r, "'<' in text");
        if (c == '&') {
            static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
            size_t k = 0;
            while (k < 5 && strncmp(r->s, ents[k], strlen(ents[k])) != 0)
                k++;
            if (k == 5)
                return xfail(r, "unknown entity");
            r->s += strlen(ents[k]);
            continue;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return xfail(r, "control byte");
        size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (!n || r->s + n > r->end)
            return xfail(r, "bad UTF-8");
        for (size_t i = 1; i < n; i++)
            if (((unsigned char)r->s[i] & 0xC0) != 0x80)
                return xfail(r, "bad UTF-8");
        r->s += n;
    }
    return true;
}

static void skip_ws(xr *r)
{
    while (r->s < r->end && (*r->s == ' ' || *r->s == '\n' || *r->s == '\t' || *r->s == '\r'))
        r->s++;
}

/* One start tag after '<': name, attributes; *empty for "/>". */
static bool xstart(xr *r, char *name, size_t cap, bool *empty)
{
    size_t n = xname(r->s);
    if (!n || n >= cap)
        return xfail(r, "bad element name");
    memcpy(name, r->s, n);
    name[n] = 0;
    r->s += n;
    char seen[32][32];
    int ns = 0;
    for (;;) {
        bool ws = r->s < r->end && (*r->s == ' ' || *r->s == '\n');
        skip_ws(r);
        if (r->s + 1 < r->end && r->s[0] == '/' && r->s[1] == '>') {
            r->s += 2;
            *empty = true;
            return true;
        }
        if (r->s < r->end && *r->s == '>') {
            r->s++;
            *empty = false;
            return true;
        }
        size_t an = xname(r->s);
        if (!ws || !an || an >= 32 || ns == 32)
            return xfail(r, "bad attribute");
        for (int i = 0; i < ns; i++)
            if (strncmp(seen[i], r->s, an) == 0 && seen[i][an] == 0)
                return xfail(r, "attribute twice");
        memcpy(seen[ns], r->s, an);
        seen[ns++][an] = 0;
        r->s += an;
        if (r->s + 1 >= r->end || r->s[0] != '=' || (r->s[1] != '"' && r->s[1] != '\''))
            return xfail(r, "attribute without a quoted value");
        char q = r->s[1];
        r->s += 2;
        if (!xtext(r, q) || r->s >= r->end)
            return xfail(r, "unterminated attribute");
        r->s++;
    }
}

static bool xml_ok(const char *doc, size_t len, char *err, size_t errn)
{
    xr r = { .base = doc, .s = doc, .end = doc + len };
    char stack[64][32];
    int depth = 0;
    bool root = false;
    if (strncmp(r.s, "<?xml ", 6) == 0) {
        const char *e = strstr(r.s, "?>");
        if (!e)
            return snprintf(err, errn, "unterminated prolog"), false;
        r.s = e + 2;
    }
    bool ok = true;
    while (ok && r.s < r.end) {
        if (*r.s != '<') {
            const char *t = r.s;
            ok = xtext(&r, '<');
            if (ok && depth == 0)
                for (; t < r.s; t++)
                    if (*t != ' ' && *t != '\n')
                        ok = xfail(&r, "text outside the root");
            continue;
        }
        r.s++;
        if (*r.s == '/') {
            r.s++;
            size_t n = xname(r.s);
            if (!depth || n != strlen(stack[depth - 1]) || strncmp(r.s, stack[depth - 1], n) ||
                r.s[n] != '>')
                ok = xfail(&r, "end tag does not match");
            r.s += n + 1;
            depth--;
            continue;
        }
        char name[32];
        bool empty;
        if (depth == 0 && root)
            ok = xfail(&r, "second root element");
        else if ((ok = xstart(&r, name, sizeof name, &empty)) && !empty) {
            if (depth == 64)
                ok = xfail(&r, "too deep");
            else
                strcpy(stack[depth++], name);
        }
        root = true;
    }
    if (ok && (depth || !root))
        ok = xfail(&r, depth ? "elements left open" : "no root element");
    if (!ok)
        snprintf(err, errn, "%s", r.err);
    return ok;
}

/* ---- SVG inspection --------------------------------------------------- */

/* Every image polyline's x goes forward. */
static void lines_forward(const char *svg)
{
    int lines = 0;
    for (const char *p = strstr(svg, "<polyline class=\"image\""); p;
         p = strstr(p + 1, "<polyline class=\"image\"")) {
        const char *pts = strstr(p, "points=\"");
        assert_non_null(pts);
        pts += 8;
        double last = -1e300;
        while (*pts && *pts != '"') {
            char *e;
            double x = strtod(pts, &e);
            assert_true(e != pts && *e == ',');
            assert_true(x >= last - 1e-9);
            last = x;
            strtod(e + 1, &e);
            pts = e;
            while (*pts == ' ')
                pts++;
        }
        lines++;
    }
    assert_true(lines > 0);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- captures through the pipeline ------------------------------------ */

typedef struct {
    char *svg;
    size_t len;
    dk_plot_stats st;
    dk_summary sum;
} result;

static void plot_capture(const char *rel, result *res)
{
    const char *data = getenv("DK_TEST_DATA");
    assert_non_null(data);
    char path[1024];
    snprintf(path, sizeof path, "%s/../../captures/%s", data, rel);
    dk_err e = { 0 };
    dk_cap_reader *r = dk_cap_open(path, DK_FMT_AUTO, DK_DIR_UNKNOWN, &e);
    if (!r)
        fail_msg("%s: %s", path, e.msg);
    dk_pipe_opts po = { 0 };
    dk_pipe *d = dk_pipe_new(NULL, &po);
    dk_plot_opts o = { .title = rel };
    dk_plot *p = dk_plot_new(&o);
    assert_non_null(d);
    assert_non_null(p);
    dk_pipe_tap(d, dk_plot_event, p);
    dk_chunk c;
    while (dk_cap_next(r, &c, &e) == 1)
        dk_pipe_chunk(d, &c);
    dk_pipe_finish(d);
    res->sum = *dk_pipe_summary(d);
    FILE *f = open_memstream(&res->svg, &res->len);
    assert_non_null(f);
    assert_int_equal(dk_plot_write(p, f), 0);
    assert_int_equal(fclose(f), 0);
    dk_plot_get_stats(p, &res->st);
    char err[200];
    if (!xml_ok(res->svg, res->len, err, sizeof err))
        fail_msg("%s: not well-formed: %s", rel, err);
    lines_forward(res->svg);
    /* every anomaly of the session is a mark with its id */
    assert_int_equal(count(res->svg, "<path class=\"anomaly "), (int)res->sum.anomalies);
    for (int i = 0; i < DK_AN_COUNT; i++) {
        if (!res->sum.an_count[i])
            continue;
        char want[80];
        snprintf(want, sizeof want, "data-id=\"%s\"", dk_anomaly_name((dk_anomaly_id)i));
        assert_int_equal(count(res->svg, want), (int)res->sum.an_count[i]);
    }
    dk_plot_free(p);
    dk_pipe_free(d);
    dk_cap_close(r);
}

static void test_every_capture(void **state)
{
    (void)state;
    static const char *const caps[] = {
        "complete-prn0.pcap", "complete-prn8.pcap", "crc-mismatch.pcap", "hash-mismatch.pcap",
        "noise.pcap", "resume.pcap", "sd-reject.pcap", "slow-execute.pcap", "complete-prn0.raw",
        "noise.raw", "sim/complete-prn0.pcap", "sim/complete-prn8.pcap", "sim/crc-corrupt.pcap",
        "sim/cut-nosave.pcap", "sim/cut-save.pcap", "sim/dropped.pcap", "sim/hash-mismatch.pcap",
        "sim/kill-resume.pcap", "sim/late.pcap", "sim/reject-downgrade.pcap",
        "sim/reject-hw.pcap", "sim/reject-sdreq.pcap",
        /* legacy HCI DFU: no IMAGE events, images numbered in every event */
        "legacy-complete.pcap", "legacy-stale.pcap", "legacy-powercut.pcap", "legacy-crc.pcap",
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        result r = { 0 };
        plot_capture(caps[i], &r);
        char want[200];
        snprintf(want, sizeof want, "%s: %s (", caps[i], dk_outcome_name(r.sum.outcome));
        if (!strstr(r.svg, want))
            fail_msg("%s: title lacks '%s'", caps[i], want);
        assert_true(r.st.points > 1);
        free(r.svg);
    }
}

static void test_resume_marks(void **state)
{
    (void)state;
    result r = { 0 };
    plot_capture("resume.pcap", &r);
    assert_true(r.st.by_time);
    assert_non_null(strstr(r.svg, "resume.pcap: completed (update.completed)"));
    /* closed for the re-run, and again after the update (to the end) */
    assert_int_equal(count(r.svg, "<rect class=\"port-gap\""), 2);
    assert_non_null(strstr(r.svg, "port closed 35.875 s"));
    assert_non_null(strstr(r.svg, "class=\"axis-break\"")); /* 36 s closed, 1.4 s open */
    /* SELECT command (init packet kept) and SELECT data at 6336 */
    assert_int_equal(count(r.svg, "<path class=\"resume\""), 2);
    assert_non_null(strstr(r.svg, "resume: SELECT data reported offset 6336"));
    assert_int_equal(count(r.svg, "<path class=\"exec\""), 3); /* 3 data objects */
    assert_int_equal(count(r.svg, "<path class=\"done\""), 1);
    assert_non_null(strstr(r.svg, "time since the first event (s)"));
    free(r.svg);
}

static void test_restart_marks(void **state)
{
    (void)state;
    result r = { 0 };
    plot_capture("sim/cut-nosave.pcap", &r);
    assert_int_equal(r.sum.restarts, 1);
    assert_int_equal(count(r.svg, "<path class=\"restart\""), 1);
    assert_int_equal(count(r.svg, "data-id=\"dfu.offset_backwards\""), 1);
    assert_int_equal(count(r.svg, "data-id=\"dfu.no_response\""), 1);
    assert_non_null(strstr(r.svg, ">dfu.no_response</text>"));    /* labelled */
    assert_int_equal(count(r.svg, "<path class=\"exec unanswered\""), 1);
    free(r.svg);

    plot_capture("sim/crc-corrupt.pcap", &r);
    assert_non_null(strstr(r.svg, "<path class=\"anomaly error\" data-id=\"dfu.crc_mismatch\""));
    assert_non_null(strstr(r.svg, "<path class=\"anomaly warning\" data-id=\"dfu.object_discarded\""));
    assert_non_null(strstr(r.svg, ">dfu.crc_mismatch</text>"));
    free(r.svg);

    plot_capture("slow-execute.pcap", &r);
    assert_non_null(strstr(r.svg, "slow-execute.pcap: interrupted (link.desync)"));
    assert_non_null(strstr(r.svg, "data-id=\"dfu.late_response\""));
    assert_int_equal(count(r.svg, "<rect class=\"port-gap\""), 1); /* closed at the end */
    free(r.svg);

    plot_capture("sim/reject-sdreq.pcap", &r);
    assert_int_equal(count(r.svg, "<path class=\"exec failed\""), 1);
    assert_non_null(strstr(r.svg, "EXT_ERROR SD_VERSION_FAILURE"));
    free(r.svg);
}

/* Legacy HCI DFU: two images (the second a restart of the first, from the
 * old session's offsets), the stale sequence and what follows from it. */
static void test_legacy(void **state)
{
    (void)state;
    result r = { 0 };
    plot_capture("legacy-stale.pcap", &r);
    assert_non_null(strstr(r.svg, "legacy-stale.pcap: failed (legacy.stale_sequence)"));
    assert_int_equal(r.st.images, 2);
    assert_non_null(strstr(r.svg, "data-image=\"1\" fill=\"none\""));
    assert_non_null(strstr(r.svg, "data-image=\"2\" fill=\"none\""));
    assert_non_null(strstr(r.svg, "data-id=\"legacy.stale_sequence\""));
    assert_int_equal(count(r.svg, "<path class=\"restart\" data-image=\"2\""), 1);
    assert_int_equal(count(r.svg, "<rect class=\"port-gap\""), 4); /* the last to the end */
    free(r.svg);
}

static void test_raw_by_position(void **state)
{
    (void)state;
    result r = { 0 };
    plot_capture("noise.raw", &r);
    assert_false(r.st.by_time);
    assert_non_null(strstr(r.svg, "position in the input (bytes; the input has no time stamps)"));
    assert_null(strstr(r.svg, "time since"));
    free(r.svg);
}

/* ---- a long synthetic session ----------------------------------------- */

static void ev_image(dk_plot *p, unsigned img, int64_t t)
{
    dk_event ev = { .kind = DK_EV_IMAGE, .t_us = t, .image = img };
    ev.u.img.index = img;
    ev.u.img.cmd_size = 69;
    dk_plot_event(p, &ev);
}

static void ev_run(dk_plot *p, unsigned img, int64_t t, uint32_t from, uint32_t to)
{
    dk_event ev = { .kind = DK_EV_WRITES, .t_us = t, .image = img };
    ev.u.run.obj_type = DK_OBJ_DATA;
    ev.u.run.off_start = from;
    ev.u.run.off_end = to;
    ev.u.run.t_first = t;
    ev.u.run.t_last = t + 500;
    dk_plot_event(p, &ev);
}

static void ev_exec(dk_plot *p, unsigned img, int64_t t)
{
    dk_event ev = { .kind = DK_EV_EXCHANGE, .t_us = t, .image = img };
    ev.u.x.has_req = ev.u.x.has_rsp = true;
    ev.u.x.req.op = DK_OP_OBJECT_EXECUTE;
    ev.u.x.rsp.op = DK_OP_OBJECT_EXECUTE;
    ev.u.x.rsp.is_response = true;
    ev.u.x.rsp.result = DK_RES_SUCCESS;
    ev.u.x.obj_type = DK_OBJ_DATA;
    ev.u.x.t_req = t;
    ev.u.x.t_rsp = t + 100;
    dk_plot_event(p, &ev);
}

static void ev_port(dk_plot *p, int64_t t, bool open)
{
    dk_event ev = { .kind = DK_EV_PORT, .t_us = t };
    ev.u.port.open = open;
    dk_plot_event(p, &ev);
}

static void test_bounded(void **state)
{
    (void)state;
    dk_plot_opts o = { .title = "long", .max_points = 1000 };
    dk_plot *p = dk_plot_new(&o);
    assert_non_null(p);
    int64_t t = 0;
    unsigned anomalies = 0, gaps = 0;
    for (unsigned img = 1; img <= 3; img++) {
        ev_image(p, img, t);
        for (unsigned i = 0; i < 100000; i++, t += 1000) {
            /* a zigzag with one spike per image: extremes must survive */
            uint32_t y = i == 55555 ? 900000 + img : (i % 7) * 100 + img;
            ev_run(p, img, t, y, y + 10);
            if (i % 20 == 0)
                ev_exec(p, img, t + 600);
            if (i % 100 == 0) {
                dk_event ev = { .kind = DK_EV_ANOMALY, .t_us = t, .image = img };
                ev.u.an.id = DK_AN_DFU_NO_RESPONSE;
                ev.u.an.severity = DK_SEV_ERROR;
                snprintf(ev.u.an.text, sizeof ev.u.an.text, "number %u", anomalies++);
                dk_plot_event(p, &ev);
            }
            if (i % 1000 == 500) { /* a port gap of 100 us; one of 850 us */
                bool longer = gaps++ == 150;
                ev_port(p, t + (longer ? 100 : 700), false);
                ev_port(p, t + (longer ? 950 : 800), true);
            }
            if (img == 2 && i == 77777) {
                dk_event ev = { .kind = DK_EV_RESUME, .t_us = t + 900, .image = img };
                ev.u.resume.obj_type = DK_OBJ_DATA;
                ev.u.resume.offset = 654321;
                ev.u.resume.from = 654321;
                ev.u.resume.how = DK_RESUME_CONTINUE;
                dk_plot_event(p, &ev);
            }
        }
    }
    dk_plot_stats st;
    dk_plot_get_stats(p, &st);
    assert_true(st.points <= 1000);
    /* 2 a run, 1 an image start, 1 the resume, 1 each data EXECUTE */
    assert_int_equal(st.points_seen, 3 * 100000 * 2 + 3 + 1 + 3 * 100000 / 20);
    assert_true(st.routine_stride > 1);
    assert_true(st.marks <= DK_PLOT_MARKS + DK_PLOT_ROUTINE);
    assert_int_equal(st.marks_left_out, anomalies + 1 - DK_PLOT_MARKS); /* + the resume */
    assert_int_equal(st.gaps, DK_PLOT_GAPS);
    assert_int_equal(st.gaps_left_out, gaps - DK_PLOT_GAPS);
    assert_int_equal(st.images, 3);

    char *svg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&svg, &len);
    assert_int_equal(dk_plot_write(p, f), 0);
    fclose(f);
    char err[200];
    if (!xml_ok(svg, len, err, sizeof err))
        fail_msg("not well-formed: %s", err);
    assert_true(len < 1024 * 1024);
    lines_forward(svg);
    /* the resume came before the marks ran out: kept; the spikes make the
     * offsets KiB */
    assert_non_null(strstr(svg, "resume: SELECT data reported offset 654321"));
    assert_non_null(strstr(svg, "offset in the image (KiB)"));
    assert_non_null(strstr(svg, "line points drawn (merged in time, extremes kept)"));
    assert_non_null(strstr(svg, "marks not drawn"));
    assert_non_null(strstr(svg, "shortest port gaps not drawn"));
    /* the longest gap is among those kept */
    assert_int_equal(count(svg, "port closed 0.001 s</title>"), 1);
    assert_int_equal(count(svg, "port closed 0.000 s</title>"), DK_PLOT_GAPS - 1);
    free(svg);
    dk_plot_free(p);
}

/* Extremes: after merging, the highest point of every image is a vertex of
 * its line; checked with a plot small enough to read back. */
static void test_extremes_kept(void **state)
{
    (void)state;
    dk_plot_opts o = { .max_points = 64, .width = 1000, .height = 600 };
    dk_plot *p = dk_plot_new(&o);
    ev_image(p, 1, 0);
    for (unsigned i = 0; i < 5000; i++)
        ev_run(p, 1, (int64_t)i * 1000, i == 3333 ? 5000 : 100, i == 3333 ? 5000 : 100);
    dk_plot_stats st;
    dk_plot_get_stats(p, &st);
    assert_true(st.points <= 64);
    char *svg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&svg, &len);
    assert_int_equal(dk_plot_write(p, f), 0);
    fclose(f);
    /* y 5000 is the axis top (5000 is a multiple of the tick step): the
     * top pixel row of the plot area, 78.0, must be on the line */
    const char *pl = strstr(svg, "<polyline class=\"image\"");
    assert_non_null(pl);
    const char *end = strstr(pl, "/>");
    const char *hit = strstr(pl, ",78.0");
    assert_true(hit && hit < end);
    free(svg);
    dk_plot_free(p);
}

static void test_escape_and_errors(void **state)
{
    (void)state;
    dk_plot_opts o = { .title = "a<b>&\"c\x01\xff\xc3\xa9.pcap" };
    dk_plot *p = dk_plot_new(&o);
    ev_image(p, 1, -1);
    ev_run(p, 1, -1, 0, 64);
    char *svg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&svg, &len);
    assert_int_equal(dk_plot_write(p, f), 0);
    fclose(f);
    char err[200];
    if (!xml_ok(svg, len, err, sizeof err))
        fail_msg("not well-formed: %s", err);
    assert_non_null(strstr(svg, "a&lt;b&gt;&amp;&quot;c??\xc3\xa9.pcap"));
    free(svg);

    /* a FILE that cannot take it all */
    char small[200];
    f = fmemopen(small, sizeof small, "w");
    assert_non_null(f);
    setvbuf(f, NULL, _IONBF, 0);
    assert_int_equal(dk_plot_write(p, f), -1);
    fclose(f);
    dk_plot_free(p);
}

/* The checker itself rejects what is not well-formed. */
static void test_checker(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "<a><b></a></b>", "<a x=1/>", "<a x=\"1\" x=\"2\"/>", "<a>&foo;</a>", "<a>\xff</a>",
        "<a>x<y</a>", "<a/><b/>", "<a>", "text<a/>", "<a>\x01</a>", "<a\"b/>",
    };
    static const char *const good[] = {
        "<a/>", "<?xml version=\"1.0\"?>\n<a x=\"&lt;&amp;\"><b>t &gt; \xc3\xa9</b></a>\n",
    };
    char err[200];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (xml_ok(bad[i], strlen(bad[i]), err, sizeof err))
            fail_msg("accepted: %s", bad[i]);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!xml_ok(good[i], strlen(good[i]), err, sizeof err))
            fail_msg("refused: %s: %s", good[i], err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker),
        cmocka_unit_test(test_every_capture),   cmocka_unit_test(test_resume_marks),
        cmocka_unit_test(test_restart_marks),   cmocka_unit_test(test_raw_by_position),
        cmocka_unit_test(test_legacy),
        cmocka_unit_test(test_bounded),         cmocka_unit_test(test_extremes_kept),
        cmocka_unit_test(test_escape_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
