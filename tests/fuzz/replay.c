/*
 * replay.c - runs a fuzz target over its seed corpus, without libFuzzer:
 * a TAP test for make check (and check-asan, check-valgrind).
 *
 *	fuzz-csv.t [FILE|DIR ...]
 *
 * With no argument it reads tests/fuzz/corpus/FUZZ_NAME/ (FUZZ_NAME is
 * given when compiling), relative to the current directory (the top of
 * the tree under make check).  Each input is one test; a crash or a
 * broken property aborts the program, which prove reports.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "compile with -DFUZZ_NAME=\"<target>\""
#endif

static int n;

static int
run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!fp) {
		printf("not ok %d - %s: %s\n", ++n, path, strerror(errno));
		return 1;
	}
	do {
		if (cap - len < 4096) {
			unsigned char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(fp);
				printf("not ok %d - %s: out of memory\n", ++n,
				       path);
				return 1;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
	} while (got > 0);
	fclose(fp);
	/* libFuzzer hands over a copy of exactly size bytes: so do we */
	{
		unsigned char *copy = malloc(len ? len : 1);

		if (!copy) {
			free(buf);
			printf("not ok %d - %s: out of memory\n", ++n, path);
			return 1;
		}
		memcpy(copy, buf, len);
		free(buf);
		fflush(stdout);
		LLVMFuzzerTestOneInput(copy, len);
		free(copy);
	}
	printf("ok %d - %s (%zu bytes)\n", ++n, path, len);
	fflush(stdout);
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t count = 0, cap = 0;
	int bad = 0;

	if (!d) {
		printf("not ok %d - %s: %s\n", ++n, dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (count == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 64) *
						   sizeof(*names));

			if (!nn)
				break;
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		if (!(names[count] = malloc(strlen(dir) + strlen(e->d_name) +
					    2)))
			break;
		snprintf(names[count], strlen(dir) + strlen(e->d_name) + 2,
			 "%s/%s", dir, e->d_name);
		count++;
	}
	closedir(d);
	qsort(names, count, sizeof(*names), cmp);
	for (size_t i = 0; i < count; i++) {
		bad |= run_file(names[i]);
		free(names[i]);
	}
	free(names);
	return bad;
}

static int
run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return run_dir(path);
	return run_file(path);
}

int
main(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2)
		bad = run_path("tests/fuzz/corpus/" FUZZ_NAME);
	for (int i = 1; i < argc; i++)
		bad |= run_path(argv[i]);
	printf("1..%d\n", n);
	return bad;
}
