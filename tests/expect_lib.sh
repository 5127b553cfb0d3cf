# expect_lib.sh -- sourced by the command-line tests (jit_args.sh, llvm/args.sh). Needs $kwcc;
# fail() and a failed expect() set st=1, which the test exits with. expect_sub: words put before
# the arguments of every expect (jit_args.sh: run).
st=0
expect_sub=()
fail() { echo "FAIL: $*"; st=1; }

# expect CODE FRAGMENT -- args...: exit status CODE and FRAGMENT in the output (stderr, or stdout
# for the comparison figures); for CODE 2 exactly one "kwcc: error:" line
expect() {
    local code=$1 frag=$2
    shift 3
    local err rc what="kwcc ${expect_sub[*]:+${expect_sub[*]} }$*"
    err=$("$kwcc" "${expect_sub[@]}" "$@" 2>&1)
    rc=$?
    if [ $rc != "$code" ]; then
        fail "$what: exit $rc, expected $code: $err"
    elif ! grep -qF -- "$frag" <<<"$err"; then
        fail "$what: message without '$frag': $err"
    elif [ "$code" = 2 ] && [ "$(grep -c '^kwcc: error:' <<<"$err")" != 1 ]; then
        fail "$what: expected one 'kwcc: error:' line: $err"
    else
        echo "ok: $what -> $code ($(grep -m1 -e 'error:' -e FAIL <<<"$err"))"
    fi
}
