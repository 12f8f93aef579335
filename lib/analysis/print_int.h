/* print_int.h - what the text (print_text.c) and JSON (print_json.c)
 * printers share; print.c dispatches to them. */
#ifndef DFUKIT_PRINT_INT_H
#define DFUKIT_PRINT_INT_H

#include <stdint.h>

#include "dfukit/print.h"

struct dk_printer {
    FILE *f;
    bool json, verbose, split;
    int64_t t0;                 /* time of the first timed event, -1 until seen */
    const dk_diag_facts *facts; /* host-log facts for the summary, or NULL */
    const dk_logrd_stats *log;  /* a log input: how far it was understood, or NULL */
};

void dk_ptext_event(dk_printer *p, const dk_event *ev);
void dk_pjson_event(dk_printer *p, const dk_event *ev);
void dk_ptext_run(dk_printer *p, unsigned run, uint64_t line, uint64_t pos, const char *text);
void dk_pjson_run(dk_printer *p, unsigned run, uint64_t line, uint64_t pos, const char *text);

/* "command", "data", "invalid" */
const char *dk_print_obj_name(uint8_t t);

/* A log's DEBUG lines that only repeat the messages next to them (shown
 * only when verbose). */
bool dk_print_tool_echo(dk_tool_kind k);

#endif
