/* print_legacy.c - the legacy HCI DFU lines of the transcript and fields of
 * the JSON Lines (print.h): packets and their ACKs, folded DATA runs, the
 * legacy init packet, the summary's legacy part. */
#include <inttypes.h>
#include <string.h>

#include "dfukit/legacy.h"
#include "print_int.h"
#include "print_legacy.h"

#define INDENT "             "

/* The time column as print_text.c writes it: seconds since the first timed
 * event in 11 columns, or "@offset". */
static void stamp(dk_printer *p, int64_t t, uint64_t pos, dk_dir dir)
{
    if (t >= 0 && p->t0 < 0)
        p->t0 = t;
    char b[32];
    if (t >= 0) {
        int64_t d = t - p->t0;
        snprintf(b, sizeof b, "%s%" PRId64 ".%06" PRId64, d < 0 ? "-" : "", (d < 0 ? -d : d) / 1000000,
                 (d < 0 ? -d : d) % 1000000);
        fprintf(p->f, "%11s  ", b);
        return;
    }
    snprintf(b, sizeof b, "@%s%" PRIu64, p->split ? (dir == DK_DIR_TARGET ? "t" : "h") : "", pos);
    fprintf(p->f, "%-11s  ", b);
}

static const char *kind_str(const dk_hci_ev *e, char *b, size_t cap)
{
    const char *n = e->has_kind ? dk_lg_kind_name(e->kind) : NULL;
    if (n)
        return n;
    if (e->has_kind)
        snprintf(b, cap, "kind %" PRIu32, e->kind);
    else
        snprintf(b, cap, "packet");
    return b;
}

void dk_ptext_hci(dk_printer *p, const dk_event *ev)
{
    const dk_hci_ev *e = &ev->u.hci;
    char b[32];
    FILE *f = p->f;
    stamp(p, e->t_pkt, e->pkt_start, DK_DIR_HOST);
    fprintf(f, "--> #%u %s", e->seq, kind_str(e, b, sizeof b));
    if (e->verdict != DK_HCI_INVALID && e->has_kind) {
        if (e->kind == DK_LG_START) {
            const char *m = dk_lg_mode_name(e->mode);
            fprintf(f, " %s sd=%" PRIu32 " bl=%" PRIu32 " app=%" PRIu32, m ? m : "mode?", e->sd_size,
                    e->bl_size, e->app_size);
        } else if (e->kind == DK_LG_DATA && e->verdict == DK_HCI_ACCEPTED &&
                   !strstr(e->effect, "ignored") && !strstr(e->effect, "dropped")) {
            fprintf(f, " %" PRIu32 " bytes at %" PRIu32, e->body_len, e->offset);
        } else if (e->kind != DK_LG_STOP) {
            fprintf(f, " %" PRIu32 " bytes", e->body_len);
        }
    }
    if (e->retransmit)
        fprintf(f, " [again]");
    switch (e->verdict) {
    case DK_HCI_ACCEPTED:
    case DK_HCI_DROPPED:
        fprintf(f, "  <-- ACK %u%s", e->ack, e->verdict == DK_HCI_DROPPED ? " DROPPED" : "");
        if (e->latency_us >= 0)
            fprintf(f, " (%" PRId64 ".%03" PRId64 " ms)", e->latency_us / 1000, e->latency_us % 1000);
        break;
    case DK_HCI_NO_ACK:
        fprintf(f, "  (no ACK)");
        break;
    case DK_HCI_INVALID:
        fprintf(f, "  (invalid: the device drops it)");
        break;
    }
    if (e->effect[0])
        fprintf(f, ": %s", e->effect);
    fputc('\n', f);
}

void dk_ptext_lg_run(dk_printer *p, const dk_event *ev)
{
    const dk_writes *r = &ev->u.run;
    stamp(p, r->t_first, ev->start, ev->dir);
    fprintf(p->f, "--> DATA x%" PRIu32 " (from #%u): %" PRIu64 " bytes [%" PRIu32 ", %" PRIu32
                  ") crc16=0x%04" PRIx32 "  <-- ACK x%" PRIu32 "\n",
            r->count, r->seq_first, r->bytes, r->off_start, r->off_end,
            r->crc_end & 0xFFFF, r->count);
}

void dk_ptext_lg_init(dk_printer *p, const dk_event *ev)
{
    const dk_init_ev *iv = &ev->u.init;
    const dk_lg_init *g = iv->legacy;
    FILE *f = p->f;
    if (!iv->ok) {
        fprintf(f, INDENT "legacy init packet: %zu bytes, does not decode: %s\n", iv->len, iv->err.msg);
        return;
    }
    fprintf(f, INDENT "legacy init packet (dfu-ver 0.%u): %zu bytes", g->version, g->len);
    if (g->pad)
        fprintf(f, " + %zu zero bytes", g->pad);
    if (g->extra)
        fprintf(f, " + %zu other bytes", g->extra);
    fputc('\n', f);
    fprintf(f, INDENT "  device_type=0x%04x%s device_rev=0x%04x app_version=0x%08" PRIx32 "\n",
            g->device_type, g->device_type == DK_LG_DEVICE_TYPE ? "" : " (not 0x0052)",
            g->device_rev, g->app_version);
    fprintf(f, INDENT "  sd_req=[");
    for (unsigned i = 0; i < g->n_sd_req && i < DK_LG_SD_REQ_MAX; i++)
        fprintf(f, "%s0x%04x", i ? ", " : "", g->sd_req[i]);
    fprintf(f, "%s]", g->n_sd_req > DK_LG_SD_REQ_MAX ? ", ..." : "");
    if (g->has_crc)
        fprintf(f, " crc16=0x%04x", g->crc16);
    if (g->version >= 6)
        fprintf(f, " ext_id=%" PRIu32, g->ext_id);
    if (g->has_hash) {
        fprintf(f, " length=%" PRIu32 " sha256=", g->fw_len);
        for (int i = 0; i < 32; i++)
            fprintf(f, "%02x", g->hash[i]);
    }
    if (g->has_sig)
        fprintf(f, " signed");
    fputc('\n', f);
}

void dk_ptext_lg_summary(dk_printer *p, const dk_summary *s)
{
    const dk_hci_stats *h = &s->hci;
    FILE *f = p->f;
    fprintf(f, "  hci:        %" PRIu64 " packets: %" PRIu64 " accepted, %" PRIu64
               " dropped by the device, %" PRIu64 " without ACK, %" PRIu64 " invalid; %" PRIu64
               " sent again; %u host run%s; device resets: %u\n",
            h->packets, h->packets - h->dropped - h->no_ack - h->invalid, h->dropped, h->no_ack,
            h->invalid, h->retransmits, h->runs, h->runs == 1 ? "" : "s", h->resets);
    fprintf(f, "  outcome:    ");
    switch (s->outcome) {
    case DK_OUTCOME_COMPLETED:
        fprintf(f, "completed\n");
        break;
    case DK_OUTCOME_FAILED: {
        const char *k = dk_lg_kind_name(s->fail_op);
        fprintf(f, "failed at %s (%s): %s\n", k ? k : "?", dk_stage_name(s->fail_stage), s->fail_text);
        break;
    }
    case DK_OUTCOME_INTERRUPTED:
        fprintf(f, "interrupted at data offset %" PRIu32, s->stop_offset);
        if (s->stop_size)
            fprintf(f, " of %" PRIu32, s->stop_size);
        fputc('\n', f);
        break;
    case DK_OUTCOME_NO_RESPONSE:
        fprintf(f, "failed: the device never acknowledged a packet\n");
        break;
    default:
        fprintf(f, "no DFU packets\n");
        break;
    }
}

/* ---- JSON ------------------------------------------------------------ */

static void jset(json_t *o, const char *k, json_t *v)
{
    json_object_set_new(o, k, v);
}

void dk_pjson_hci(json_t *o, const dk_event *ev)
{
    const dk_hci_ev *e = &ev->u.hci;
    const char *k = e->has_kind ? dk_lg_kind_name(e->kind) : NULL;
    jset(o, "seq", json_integer(e->seq));
    jset(o, "kind", k ? json_string(k) : e->has_kind ? json_integer(e->kind) : json_null());
    if (e->has_kind && e->kind == DK_LG_START) {
        const char *m = dk_lg_mode_name(e->mode);
        jset(o, "mode", m ? json_string(m) : json_integer(e->mode));
        jset(o, "sd_size", json_integer(e->sd_size));
        jset(o, "bl_size", json_integer(e->bl_size));
        jset(o, "app_size", json_integer(e->app_size));
    }
    jset(o, "len", json_integer(e->body_len));
    if (e->has_kind && e->kind == DK_LG_DATA && e->verdict == DK_HCI_ACCEPTED)
        jset(o, "offset", json_integer(e->offset));
    jset(o, "verdict", json_string(dk_hci_verdict_name(e->verdict)));
    jset(o, "ack", e->has_ack ? json_integer(e->ack) : json_null());
    jset(o, "latency_ms", e->latency_us >= 0 ? json_real((double)e->latency_us / 1000.0) : json_null());
    jset(o, "again", json_boolean(e->retransmit));
    jset(o, "effect", e->effect[0] ? json_string(e->effect) : json_null());
}

json_t *dk_pjson_lg_init(const dk_lg_init *g)
{
    json_t *o = json_object();
    char b[72];
    jset(o, "dfu_version", json_integer(g->version));
    jset(o, "device_type", json_integer(g->device_type));
    jset(o, "device_rev", json_integer(g->device_rev));
    jset(o, "app_version", json_integer(g->app_version));
    json_t *sd = json_array();
    for (unsigned i = 0; i < g->n_sd_req && i < DK_LG_SD_REQ_MAX; i++)
        json_array_append_new(sd, json_integer(g->sd_req[i]));
    jset(o, "sd_req", sd);
    jset(o, "crc16", g->has_crc ? json_integer(g->crc16) : json_null());
    if (g->has_hash) {
        for (int i = 0; i < 32; i++)
            snprintf(b + 2 * i, 3, "%02x", g->hash[i]);
        jset(o, "length", json_integer(g->fw_len));
        jset(o, "sha256", json_string(b));
    }
    jset(o, "signed", json_boolean(g->has_sig));
    jset(o, "padding", json_integer((json_int_t)g->pad));
    return o;
}

void dk_pjson_lg_summary(json_t *o, const dk_summary *s)
{
    const dk_hci_stats *h = &s->hci;
    json_t *j = json_object();
    jset(j, "packets", json_integer((json_int_t)h->packets));
    jset(j, "acks", json_integer((json_int_t)h->acks));
    jset(j, "dropped", json_integer((json_int_t)h->dropped));
    jset(j, "no_ack", json_integer((json_int_t)h->no_ack));
    jset(j, "invalid", json_integer((json_int_t)h->invalid));
    jset(j, "sent_again", json_integer((json_int_t)h->retransmits));
    jset(j, "host_runs", json_integer(h->runs));
    jset(j, "device_resets", json_integer(h->resets));
    jset(j, "stale_sequence", json_boolean(h->stale));
    jset(j, "first_ack", h->first_expect >= 0 ? json_integer(h->first_expect) : json_null());
    jset(o, "protocol", json_string("legacy"));
    jset(o, "hci", j);
    if (s->outcome == DK_OUTCOME_FAILED) {
        json_t *fo = json_object();
        const char *k = dk_lg_kind_name(s->fail_op);
        jset(fo, "stage", json_string(dk_stage_name(s->fail_stage)));
        jset(fo, "packet", k ? json_string(k) : json_null());
        jset(fo, "text", json_string(s->fail_text));
        jset(fo, "pos", json_integer((json_int_t)s->fail_pos));
        jset(o, "failure", fo);
    }
}
