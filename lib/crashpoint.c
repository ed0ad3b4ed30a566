/*
 * crashpoint.c - named points where the crash-consistency tests kill a
 * tool (tests/crash/, RELIABILITY.md section 1).
 *
 * CARNET_TEST_CRASHPOINT=NAME:N makes the Nth call of cn_crashpoint(NAME)
 * in the process send SIGKILL to itself: no handler, no atexit, no
 * flushing, exactly as a kill -9 from outside, but at a chosen row,
 * message or batch instead of a chosen moment.  Unset (always, outside
 * the tests), a call costs one comparison.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int armed = -1;		/* -1: not read yet, 0: off, 1: on */
static char point[64];
static long target, seen;

static void arm(void)
{
	const char *v = getenv("CARNET_TEST_CRASHPOINT");
	const char *colon;
	char *end;
	size_t n;

	armed = 0;
	if (!v || !(colon = strrchr(v, ':')) || (n = (size_t)(colon - v)) == 0 ||
	    n >= sizeof point)
		return;
	target = strtol(colon + 1, &end, 10);
	if (*end || target < 1)
		return;
	memcpy(point, v, n);
	point[n] = '\0';
	armed = 1;
}

void cn_crashpoint(const char *name)
{
	if (armed < 0)
		arm();
	if (!armed || strcmp(name, point) != 0)
		return;
	/* atomic: the receiver calls it from several threads */
	if (__atomic_add_fetch(&seen, 1, __ATOMIC_RELAXED) == target)
		kill(getpid(), SIGKILL);
}
