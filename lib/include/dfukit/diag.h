/* diag.h - known failure signatures: pick the one-sentence diagnosis for a
 * session summary.
 *
 * One row per signature, tried in table order; the first whose conditions all
 * hold wins.  A row's conditions are fields (outcome, failing stage, opcode,
 * result, extended error, anomaly present) plus an optional predicate for what
 * fields cannot say.  -1 / DK_DIAG_ANY means "any".  The last row matches
 * everything, so dk_diag_pick never returns NULL.
 *
 * To add a signature: add a row to the table in diag.c, before the first row
 * that would also match it, and a test in tests/lib/test_diag.c.
 */
#ifndef DFUKIT_DIAG_H
#define DFUKIT_DIAG_H

#include <stdbool.h>

#include "dfukit/session.h"

#define DK_DIAG_ANY (-1)

typedef struct dk_diag_row {
    const char *id;      /* stable dotted id, e.g. "init.sd_req" */
    const char *when;    /* the condition in words (for docs and --list) */
    int outcome;         /* dk_outcome or DK_DIAG_ANY */
    int stage;           /* dk_stage of the failing request, or DK_DIAG_ANY */
    int op;              /* failing opcode, or DK_DIAG_ANY */
    int result;          /* failing result code, or DK_DIAG_ANY */
    int ext;             /* failing extended error, or DK_DIAG_ANY */
    int anomaly;         /* dk_anomaly_id that must have occurred, or DK_DIAG_ANY */
    bool (*match)(const dk_summary *s); /* extra condition, or NULL */
    const char *explain; /* one sentence: what happened */
    const char *try_;    /* one sentence: what to try */
} dk_diag_row;

/* The first matching row (never NULL). */
const dk_diag_row *dk_diag_pick(const dk_summary *s);

/* The table, for listing and tests. */
const dk_diag_row *dk_diag_table(unsigned *n);

/* A row by id, or NULL. */
const dk_diag_row *dk_diag_find(const char *id);

#endif
