/*
 * carnet - the dispatcher: "carnet TOOL args" runs carnet-TOOL (found
 * beside this program, else on PATH), as git does; "carnet help" lists
 * the tools that are installed.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet TOOL [ARGS...]\n"
	"       carnet help [TOOL]\n"
	"       carnet version\n"
	"\n"
	"Runs carnet-TOOL with ARGS: 'carnet contacts ls' is 'carnet-contacts ls'.\n"
	"The tool is looked for beside carnet, then on PATH.\n"
	"\n"
	"Options:\n"
	"  -h, --help               show this help and the installed tools\n"
	"      --version            show the version\n"
	"\n"
	"Examples:\n"
	"  carnet help\n"
	"  carnet contacts import --list clients < clients.csv\n"
	"  carnet help contacts\n";

/* Writes into path (PATH_MAX) the carnet-TOOL beside this program; returns
 * 0 if it exists and is executable. */
static int
beside(const char *tool, char *path)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if (snprintf(path, PATH_MAX, "%s/carnet-%s", self, tool) >= PATH_MAX)
		return -1;
	return access(path, X_OK);
}

/* Returns 1 if carnet-TOOL is beside carnet or on PATH. */
static int
installed(const char *tool)
{
	char path[PATH_MAX], *p, *dirs;
	const char *env = getenv("PATH");
	int found = 0;

	if (beside(tool, path) == 0)
		return 1;
	if (!env || !(dirs = strdup(env)))
		return 0;
	for (char *save = dirs; !found && (p = strsep(&save, ":"));) {
		if (snprintf(path, sizeof(path), "%s/carnet-%s", *p ? p : ".",
			     tool) < (int)sizeof(path))
			found = access(path, X_OK) == 0;
	}
	free(dirs);
	return found;
}

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
	fputs("\nTools:\n", fp);
	for (const struct cli_tool *t = cli_tools; t->name; t++)
		if (installed(t->name))
			fprintf(fp, "  %-12s %s\n", t->name, t->job);
	fputs("\nSee carnet(7) for the overview and carnet.yaml(5) for the "
	      "configuration.\n", fp);
}

static int
run(const char *tool, char **argv)
{
	char path[PATH_MAX], name[128];

	if (strchr(tool, '/') || strlen(tool) > 100) {
		fprintf(stderr, "carnet: '%s' is not a carnet tool\n", tool);
		return EX_USAGE;
	}
	if (beside(tool, path) == 0) {
		execv(path, argv);
		fprintf(stderr, "carnet: %s: %s\n", path, strerror(errno));
		return EX_UNAVAILABLE;
	}
	snprintf(name, sizeof(name), "carnet-%s", tool);
	argv[0] = name;
	execvp(name, argv);
	if (errno == ENOENT) {
		fprintf(stderr, "carnet: '%s' is not a carnet tool; see "
			"'carnet help'\n", tool);
		return EX_USAGE;
	}
	fprintf(stderr, "carnet: %s: %s\n", name, strerror(errno));
	return EX_UNAVAILABLE;
}

int
main(int argc, char **argv)
{
	struct cli c;
	const char *cmd;

	cli_init(&c, "carnet");
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		if (argc > 2 && cmd[0] != '-') {
			char *args[] = {argv[2], "--help", NULL};

			return run(argv[2], args);
		}
		usage(stdout);
		return cli_finish(&c, 0);
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("carnet %s\n", CN_VERSION);
		return cli_finish(&c, 0);
	}
	if (cmd[0] == '-')
		return cli_usage_error(&c, "unknown option '%s'", cmd);
	return run(cmd, argv + 1);
}
