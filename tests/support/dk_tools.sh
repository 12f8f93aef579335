# dk_tools.sh - find the optional third-party DFU hosts some tests drive.
# Source it (. "$DIR/dk_tools.sh"), then call a finder: it prints the
# command's path and returns 0, or prints why it is missing on stderr and
# returns 1, so a test can say `N=$(dk_find_nrfutil) || exit 77`.
#
#   client                          environment variable       else on PATH
#   Nordic pc-nrfutil 6.x           DFUKIT_NRFUTIL             nrfutil-6, or nrfutil that says version 6
#   Adafruit adafruit-nrfutil       DFUKIT_ADAFRUIT_NRFUTIL    adafruit-nrfutil
#   nrfdfu (infsoft-locaware)       DFUKIT_NRFDFU              nrfdfu
#   nrf-update (libnrfu)            DFUKIT_NRF_UPDATE          nrf-update
#
# A variable that is set must name an executable: a wrong one is reported,
# not silently replaced by what PATH has.  None of these is a Debian package;
# tests that need one skip (exit 77) without it.

# dk_find_tool VAR NAME...: $VAR, else the first NAME on PATH.
dk_find_tool() {
    _var=$1
    shift
    eval "_val=\${$_var:-}"
    if [ -n "$_val" ]; then
        _p=$(command -v "$_val" 2>/dev/null) && [ -x "$_p" ] && { echo "$_p"; return 0; }
        echo "$_var=$_val is not an executable" >&2
        return 1
    fi
    for _n in "$@"; do
        _p=$(command -v "$_n" 2>/dev/null) && [ -x "$_p" ] && { echo "$_p"; return 0; }
    done
    echo "none of '$*' on PATH and $_var not set" >&2
    return 1
}

# Nordic's pc-nrfutil 6 (its `dfu serial` and `pkg generate`): the newer
# nrfutil launcher has another command line, so a plain `nrfutil` counts only
# when `nrfutil version` says 6.
dk_find_nrfutil() {
    if [ -n "${DFUKIT_NRFUTIL:-}" ] || command -v nrfutil-6 >/dev/null 2>&1; then
        dk_find_tool DFUKIT_NRFUTIL nrfutil-6
        return
    fi
    if _p=$(command -v nrfutil 2>/dev/null); then
        case $("$_p" version 2>/dev/null) in
        *"version 6."*) echo "$_p"; return 0 ;;
        esac
        echo "nrfutil on PATH ($_p) is not pc-nrfutil 6; set DFUKIT_NRFUTIL" >&2
        return 1
    fi
    echo "pc-nrfutil 6 not found: no nrfutil-6 or nrfutil on PATH and DFUKIT_NRFUTIL not set" >&2
    return 1
}

dk_find_adafruit_nrfutil() { dk_find_tool DFUKIT_ADAFRUIT_NRFUTIL adafruit-nrfutil; }
dk_find_nrfdfu() { dk_find_tool DFUKIT_NRFDFU nrfdfu; }
dk_find_nrf_update() { dk_find_tool DFUKIT_NRF_UPDATE nrf-update; }
