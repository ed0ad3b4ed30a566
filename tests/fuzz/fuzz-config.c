/*
 * fuzz-config.c - the configuration loader (lib/config.c): YAML syntax,
 * unknown keys, wrong types, aliases, secrets, paths; and the field map
 * files of import (cn_mapfile_load), which share its YAML reader.
 *
 * cn_config_load() reads a file: the input is written to one private
 * file (0600, see fuzz_tmpdir()) that every run rewrites.  The environment is
 * fixed first so that only the file decides.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "carnet.h"
#include "fuzz.h"

static char path[256];
static int fd = -1;

static void
setup(void)
{
	snprintf(path, sizeof(path), "%s/carnet-fuzz-config.XXXXXX",
		 fuzz_tmpdir());
	if ((fd = mkstemp(path)) < 0)
		fuzz_fail("cannot create %s", path);
	setenv("HOME", "/nonexistent/home", 1);
	setenv("USER", "fuzz", 1);
	setenv("XDG_DATA_HOME", "/nonexistent/data", 1);
	setenv("XDG_CONFIG_HOME", "/nonexistent/config", 1);
	unsetenv("CARNET_CONFIG");
	unsetenv("CARNET_STORE");
	unsetenv("CARNET_FOLDER");
	unsetenv("CARNET_USER");
	unsetenv("CARNET_BACKUP_DIR");
}

static void
cleanup(void)
{
	if (fd >= 0)
		unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cn_config cfg;
	struct cn_buf map;
	struct cn_err err;
	int rc;

	if (fd < 0) {
		setup();
		atexit(cleanup);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		fuzz_fail("cannot write %s", path);

	rc = cn_config_load(&cfg, path, &err);
	if (rc == 0) {
		fuzz_assert(cfg.store && cfg.folder && cfg.user,
			    "a loaded config without store, folder or user");
		fuzz_assert(cfg.path && !strcmp(cfg.path, path),
			    "cfg.path is not the file read");
		cn_config_free(&cfg);
	} else {
		fuzz_assert(rc == -1, "cn_config_load returned %d", rc);
		fuzz_assert(err.code == CN_ECONFIG || err.code == CN_EINTERNAL,
			    "config error with code %d: %s", err.code, err.msg);
		fuzz_assert(err.msg[0] && !strchr(err.msg, '\n'),
			    "config error message empty or multi-line: '%s'",
			    err.msg);
		fuzz_assert(cfg.store == NULL && cfg.path == NULL,
			    "cfg not freed after an error");
	}

	cn_buf_init(&map, 1 << 20);
	cn_buf_adds(&map, "a=b");
	rc = cn_mapfile_load(path, &map, &err);
	if (rc < 0)
		fuzz_assert(map.len == 3 && !strcmp(map.ptr, "a=b"),
			    "a failed map load changed the map: '%s'",
			    map.ptr);
	cn_buf_free(&map);
	return 0;
}
