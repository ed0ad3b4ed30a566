#!/usr/bin/env bash
# make install puts tools, man pages, the library, its header and a
# pkg-config file in place; a program builds against the installed library.
. "$(dirname "$0")/../lib.sh"
root=$TOP
command -v pkg-config >/dev/null || skip_all "pkg-config is not installed (make deps)"

dest=$T/dest
run make -s -C "$root" install PREFIX=/opt/carnet DESTDIR="$dest"
is "$status" 0 "make install exits 0"
for f in bin/carnet bin/carnet-contacts lib/libcarnet.a lib/libcarnet.so.0 include/carnet.h lib/pkgconfig/carnet.pc share/man/man1/carnet-contacts.1 share/man/man5/carnet.yaml.5 share/man/man7/carnet.7; do
	ok "$([ -e "$dest/opt/carnet/$f" ]; echo $?)" "installed $f"
done
pc=$dest/opt/carnet/lib/pkgconfig
is "$(PKG_CONFIG_PATH=$pc pkg-config --modversion carnet)" "0.1.0" "pkg-config knows libcarnet's version"
cat >"$T/prog.c" <<'C'
#include <carnet.h>
#include <stdio.h>
int main(void)
{
	struct cn_err err;
	struct cn_phone_rules r;
	char out[20];
	if (cn_phone_rules_init(&r, "FR", &err) < 0 ||
	    cn_phone_normalize(&r, "06 12 34 56 78", out, sizeof out, &err) < 0)
		return 1;
	cn_phone_rules_free(&r);
	puts(out);
	return 0;
}
C
flags=$(PKG_CONFIG_PATH=$pc pkg-config --define-prefix --cflags --libs carnet)
run cc ${SANFLAGS:-} -o "$T/prog" "$T/prog.c" $flags
is "$status" 0 "a program compiles and links with pkg-config carnet"
run env LD_LIBRARY_PATH="$dest/opt/carnet/lib" "$T/prog"
is "$out" "+33612345678" "and runs against the installed library"
done_testing
