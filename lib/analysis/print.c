/* print.c - a printer: options, state, and the text or JSON printer. */
#include <stdlib.h>

#include "print_int.h"

dk_printer *dk_printer_new(FILE *out, const dk_print_opts *o)
{
    dk_printer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->f = out;
    p->json = o->json;
    p->verbose = o->verbose;
    p->split = o->split;
    p->t0 = -1;
    return p;
}

void dk_printer_free(dk_printer *p)
{
    free(p);
}

void dk_printer_out(dk_printer *p, FILE *out)
{
    p->f = out;
}

void dk_printer_facts(dk_printer *p, const dk_diag_facts *f)
{
    p->facts = f;
}

void dk_printer_log(dk_printer *p, const dk_logrd_stats *st)
{
    p->log = st;
}

void dk_printer_run(dk_printer *p, unsigned run, uint64_t line, uint64_t pos, const char *text)
{
    if (p->json)
        dk_pjson_run(p, run, line, pos, text);
    else
        dk_ptext_run(p, run, line, pos, text);
}

void dk_printer_event(void *ctx, const dk_event *ev)
{
    dk_printer *p = ctx;
    if (ev->kind == DK_EV_TOOL && dk_print_tool_echo(ev->u.rec->tool->kind) && !p->verbose)
        return;
    if (p->json)
        dk_pjson_event(p, ev);
    else
        dk_ptext_event(p, ev);
}

const char *dk_print_obj_name(uint8_t t)
{
    return t == DK_OBJ_COMMAND    ? "command"
           : t == DK_OBJ_DATA    ? "data"
           : t == DK_OBJ_UNSHOWN ? "unknown-type"
                                 : "invalid";
}

bool dk_print_tool_echo(dk_tool_kind k)
{
    return k == DK_TOOL_SELECTING || k == DK_TOOL_SELECTED || k == DK_TOOL_STREAMING ||
           k == DK_TOOL_TRACEBACK;
}
