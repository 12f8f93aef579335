/* tables.c - lookups generated from the X-macro lists in tables.h. */
#include "dfukit/tables.h"

#include <stdio.h>

#define CASE_NAME2(v, n)          case v: return #n;
#define CASE_NAME3(v, n, a)       case v: return #n;
#define CASE_NAME4(v, n, a, b)    case v: return #n;
#define CASE_ARG3(v, n, a)        case v: return a;
#define CASE_ARG4A(v, n, a, b)    case v: return a;
#define CASE_ARG4B(v, n, a, b)    case v: return b;

const char *dk_op_name(unsigned v)         { switch (v) { DK_OPCODES(CASE_NAME3) } return NULL; }
const char *dk_result_name(unsigned v)     { switch (v) { DK_RESULTS(CASE_NAME3) } return NULL; }
const char *dk_result_meaning(unsigned v)  { switch (v) { DK_RESULTS(CASE_ARG3) } return NULL; }
const char *dk_ext_name(unsigned v)        { switch (v) { DK_EXT_ERRORS(CASE_NAME4) } return NULL; }
const char *dk_ext_meaning(unsigned v)     { switch (v) { DK_EXT_ERRORS(CASE_ARG4A) } return NULL; }
const char *dk_ext_hint(unsigned v)        { switch (v) { DK_EXT_ERRORS(CASE_ARG4B) } return NULL; }
const char *dk_obj_name(unsigned v)        { switch (v) { DK_OBJ_TYPES(CASE_NAME2) } return NULL; }
const char *dk_fw_name(unsigned v)         { switch (v) { DK_FW_TYPES(CASE_NAME3) } return NULL; }
const char *dk_fw_manifest_key(unsigned v) { switch (v) { DK_FW_TYPES(CASE_ARG3) } return NULL; }
const char *dk_hash_name(unsigned v)       { switch (v) { DK_HASH_TYPES(CASE_NAME2) } return NULL; }
const char *dk_sig_name(unsigned v)        { switch (v) { DK_SIG_TYPES(CASE_NAME2) } return NULL; }
const char *dk_validation_name(unsigned v) { switch (v) { DK_VALIDATION_TYPES(CASE_NAME2) } return NULL; }

int dk_op_in_sdk(unsigned v)
{
#define CASE_SDK(v, n, s) case v: return s;
    switch (v) { DK_OPCODES(CASE_SDK) }
#undef CASE_SDK
    return 0;
}

static const char *or_unknown(const char *name, unsigned v, char buf[DK_NAME_BUFSZ])
{
    if (name)
        return name;
    snprintf(buf, DK_NAME_BUFSZ, "unknown(0x%02x)", v);
    return buf;
}

const char *dk_op_str(unsigned v, char buf[DK_NAME_BUFSZ])     { return or_unknown(dk_op_name(v), v, buf); }
const char *dk_result_str(unsigned v, char buf[DK_NAME_BUFSZ]) { return or_unknown(dk_result_name(v), v, buf); }
const char *dk_ext_str(unsigned v, char buf[DK_NAME_BUFSZ])    { return or_unknown(dk_ext_name(v), v, buf); }
const char *dk_obj_str(unsigned v, char buf[DK_NAME_BUFSZ])    { return or_unknown(dk_obj_name(v), v, buf); }
const char *dk_fw_str(unsigned v, char buf[DK_NAME_BUFSZ])     { return or_unknown(dk_fw_name(v), v, buf); }
