/* print_legacy.h - the legacy HCI DFU parts of the printers (print_legacy.c),
 * called from print_text.c and print_json.c. */
#ifndef DFUKIT_PRINT_LEGACY_H
#define DFUKIT_PRINT_LEGACY_H

#include <jansson.h>

#include "dfukit/legacy.h"
#include "print_int.h"

void dk_ptext_hci(dk_printer *p, const dk_event *ev);            /* DK_EV_HCI */
void dk_ptext_lg_run(dk_printer *p, const dk_event *ev);         /* WRITES, legacy */
void dk_ptext_lg_init(dk_printer *p, const dk_event *ev);        /* INIT, legacy */
void dk_ptext_lg_summary(dk_printer *p, const dk_summary *s);    /* hci and outcome lines */

void dk_pjson_hci(json_t *o, const dk_event *ev);
json_t *dk_pjson_lg_init(const dk_lg_init *g);
/* "protocol", "hci" and, when failed, "failure" (replacing the Secure DFU one) */
void dk_pjson_lg_summary(json_t *o, const dk_summary *s);

#endif
