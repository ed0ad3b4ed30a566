/*
 * fuzz.h - what the fuzz targets of tests/fuzz/ share.
 *
 * Each target defines LLVMFuzzerTestOneInput().  Built with clang and
 * -fsanitize=fuzzer (make fuzz) it is a libFuzzer program; built with the
 * regular compiler and replay.c (make check) it is a TAP test that runs
 * every input of tests/fuzz/corpus/<target>/ once.
 *
 * A target checks properties the library promises beyond "does not
 * crash"; a broken one calls fuzz_fail(), which aborts so that libFuzzer
 * keeps the input.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_fail(...)                                                       \
	do {                                                                 \
		fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);        \
		fprintf(stderr, __VA_ARGS__);                                \
		fputc('\n', stderr);                                         \
		abort();                                                     \
	} while (0)

#define fuzz_assert(cond, ...)                                               \
	do {                                                                 \
		if (!(cond))                                                 \
			fuzz_fail(__VA_ARGS__);                              \
	} while (0)

/* Where the targets that need files keep them: $FUZZ_TMPDIR, else
 * /dev/shm (a file system in memory: ten times the runs per second),
 * else $TMPDIR, else /tmp. */
#include <unistd.h>

static inline const char *
fuzz_tmpdir(void)
{
	const char *t = getenv("FUZZ_TMPDIR");

	if (t && *t)
		return t;
	if (access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

#endif
