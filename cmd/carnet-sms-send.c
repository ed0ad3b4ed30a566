/*
 * carnet-sms-send - render, check and send SMS to recipients read from
 * stdin (CSV or JSON: phone plus merge fields), a list, or --to; as a
 * campaign, previewed, simulated or saved for later.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "sendcli.h"

static const char usage_text[] =
	"usage: carnet-sms-send [options] (--template KEY | --text TEXT)\n"
	"           [--to NUMBER]... [--list NAME] [FILE]\n"
	"\n"
	"Sends one SMS per recipient: the text (or the template) rendered with the\n"
	"recipient's fields.  Recipients come from --to, from --list, or from FILE\n"
	"or stdin as CSV or JSON records with a 'phone' column and any merge\n"
	"fields.  Everything is checked before anything is sent: phone numbers,\n"
	"merge fields, the segment limit (sms.max_segments), the sender, the\n"
	"blacklist and the quota.  Each message is recorded before the gateway is\n"
	"called, so a send that is stopped or killed resumes with\n"
	"`carnet-campaign send ID` and never sends a message twice.\n"
	"\n"
	"What to send:\n"
	"  -t, --template KEY       a template: its id, uuid or title\n"
	"      --text TEXT          the text itself (merge fields allowed: {{first_name}})\n"
	"      --sender NAME        sender name (<= 11 letters/digits) or number\n"
	"                           (default: sms.sender); adds the STOP mention\n"
	"      --transliterate      replace accented letters when that makes the\n"
	"                           text GSM-7 (cheaper): e with acute -> e\n"
	"\n"
	"Recipients:\n"
	"      --to NUMBER          one recipient (repeat for more)\n"
	"  -l, --list NAME          the members of a list\n"
	"      --input-format FMT   csv, json or auto for FILE/stdin (default: auto)\n"
	"      --delimiter C        CSV delimiter (default: detected)\n"
	"      --no-skip-blacklisted  refuse the whole send when a recipient is\n"
	"                           blacklisted (default: skip and report them)\n"
	"\n"
	"How:\n"
	"  -c, --campaign NAME      the campaign's name (default: the template's\n"
	"                           title and the time); a name is used once\n"
	"      --preview            print the text each recipient gets, its\n"
	"                           encoding and segments, the totals and the\n"
	"                           quota effect; record and send nothing\n"
	"  -n, --dry-run            the same as --preview\n"
	"      --simulate           everything but the gateway: recorded as simulated\n"
	"      --save               record the campaign as a draft, send nothing\n"
	"  -y, --yes                confirm a send above sms.warn_threshold (asked on\n"
	"                           a terminal; refused otherwise)\n"
	"  -P, --parallel N         requests in flight (1-64, default 4)\n"
	"      --rate N/s           at most N requests per second (also N/m)\n"
	"      --retries N          retries of a temporary failure (default 3)\n"
	"      --timeout SECONDS    HTTP timeout (default: sms.http_timeout, 20 s)\n"
	"\n"
	"Common options:\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        the folder (default from config)\n"
	"      --user NAME          the sending user (default from config, $USER)\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -q, --quiet              no summary on stderr\n"
	"  -v, --verbose            more detail on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Output: one record per message: id (carnet's reference), campaign, to,\n"
	"status, encoding, segments, provider_id, error; a summary on stderr.\n"
	"Exit: 0 sent; 1 over quota or refused; 65 invalid recipients (nothing\n"
	"sent); 75 the gateway failed, messages left for a later run; 77 the\n"
	"gateway refused the credentials; 78 no gateway configured.\n"
	"\n"
	"Examples:\n"
	"  carnet-contacts export --list interim --format ndjson \\\n"
	"    | carnet-sms-send --template relance --campaign relance-nov --sender ACME\n"
	"  carnet-sms-send --to +33612345678 --text 'Votre mission d\xc3\xa9marre lundi \xc3\xa0 8h'\n"
	"  carnet-sms-send --list interim --template relance --preview\n"
	"  carnet-sms-send --list interim --template relance --simulate\n"
	"  carnet-sms-send --list interim --template relance --save\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_TEMPLATE = 't',
	OPT_LIST = 'l',
	OPT_CAMPAIGN = 'c',
	OPT_DRYRUN = 'n',
	OPT_YES = 'y',
	OPT_PARALLEL = 'P',
	OPT_TEXT = OPT_TOOL_BASE,
	OPT_SENDER,
	OPT_TRANSLIT,
	OPT_TO,
	OPT_INFMT,
	OPT_DELIM,
	OPT_NOSKIP,
	OPT_PREVIEW,
	OPT_SIMULATE,
	OPT_SAVE,
	OPT_RATE,
	OPT_RETRIES,
	OPT_TIMEOUT,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"template", required_argument, NULL, OPT_TEMPLATE},
	{"text", required_argument, NULL, OPT_TEXT},
	{"sender", required_argument, NULL, OPT_SENDER},
	{"transliterate", no_argument, NULL, OPT_TRANSLIT},
	{"to", required_argument, NULL, OPT_TO},
	{"list", required_argument, NULL, OPT_LIST},
	{"input-format", required_argument, NULL, OPT_INFMT},
	{"delimiter", required_argument, NULL, OPT_DELIM},
	{"no-skip-blacklisted", no_argument, NULL, OPT_NOSKIP},
	{"campaign", required_argument, NULL, OPT_CAMPAIGN},
	{"preview", no_argument, NULL, OPT_PREVIEW},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"simulate", no_argument, NULL, OPT_SIMULATE},
	{"save", no_argument, NULL, OPT_SAVE},
	{"yes", no_argument, NULL, OPT_YES},
	{"parallel", required_argument, NULL, OPT_PARALLEL},
	{"rate", required_argument, NULL, OPT_RATE},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{NULL, 0, NULL, 0},
};

#define int_arg sendcli_int

int
main(int argc, char **argv)
{
	struct cli c;
	struct sendcli s;
	const char **to = NULL;
	size_t nto = 0;
	FILE *fp = NULL, *in = NULL;
	const char *name = "stdin";
	int opt, status = 0;
	long v;

	cli_init(&c, "carnet-sms-send");
	sendcli_init(&s);
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "t:l:c:nyP:",
				  options, NULL)) != -1) {
		if (cli_common(&c, opt, optarg, usage)) {
			if (c.stop)
				goto done;
			continue;
		}
		switch (opt) {
		case OPT_TEMPLATE: s.spec.template_key = optarg; break;
		case OPT_TEXT: s.spec.text = optarg; break;
		case OPT_SENDER: s.spec.sender = optarg; break;
		case OPT_TRANSLIT: s.spec.transliterate = 1; break;
		case OPT_TO: {
			const char **t = realloc(to, (nto + 1) * sizeof(*to));

			if (!t) {
				status = EX_OSERR;
				goto done;
			}
			to = t;
			to[nto++] = optarg;
			break;
		}
		case OPT_LIST: s.spec.list = optarg; break;
		case OPT_INFMT:
			if (cli_input_format(&c, optarg, &s.infmt) < 0)
				goto done;
			break;
		case OPT_DELIM:
			if (cli_delimiter(&c, optarg, &s.delimiter) < 0)
				goto done;
			break;
		case OPT_NOSKIP: s.spec.skip_blacklisted = 0; break;
		case OPT_CAMPAIGN: s.spec.campaign = optarg; break;
		case OPT_PREVIEW:
		case OPT_DRYRUN: s.preview = 1; break;
		case OPT_SIMULATE: s.spec.simulate = 1; break;
		case OPT_SAVE: s.spec.save = 1; break;
		case OPT_YES: s.spec.yes = 1; break;
		case OPT_PARALLEL:
			if (int_arg(&c, "parallel", optarg, 1, 64, &v) < 0)
				goto done;
			s.so.parallel = (int)v;
			break;
		case OPT_RATE:
			if (sendcli_rate(optarg, &s.so.rate) < 0) {
				cli_usage_error(&c, "--rate: expected N/s or N/m "
						"(N > 0), got '%s'", optarg);
				cli_stop(&c, EX_USAGE);
				goto done;
			}
			break;
		case OPT_RETRIES:
			if (int_arg(&c, "retries", optarg, 0, 20, &v) < 0)
				goto done;
			s.so.retries = (int)v;
			break;
		case OPT_TIMEOUT:
			if (int_arg(&c, "timeout", optarg, 1, 3600, &v) < 0)
				goto done;
			s.so.timeout_s = v;
			break;
		default:
			cli_usage_error(&c, "unknown option");
			cli_stop(&c, EX_USAGE);
			goto done;
		}
	}
	if (c.stop)
		goto done;
	if (!s.spec.template_key == !s.spec.text) {
		status = cli_usage_error(&c, s.spec.text
					 ? "give --template or --text, not both"
					 : "nothing to send: give --template "
					   "KEY or --text TEXT");
		goto done;
	}
	if (s.spec.text && !*s.spec.text) {
		status = cli_usage_error(&c, "--text: the text is empty");
		goto done;
	}
	if (s.preview + s.spec.simulate + s.spec.save > 1 &&
	    !(s.spec.save && s.spec.simulate)) {
		status = cli_usage_error(&c, "--preview, --simulate and --save "
					 "go one at a time");
		goto done;
	}
	if ((nto > 0) + (s.spec.list != NULL) + (optind < argc) > 1) {
		status = cli_usage_error(&c, "recipients come from one place: "
					 "--to, --list or a file");
		goto done;
	}
	if (argc - optind > 1) {
		status = cli_usage_error(&c, "unexpected argument '%s'",
					 argv[optind + 1]);
		goto done;
	}
	if (!nto && !s.spec.list && optind == argc && isatty(STDIN_FILENO)) {
		status = cli_usage_error(&c, "no recipients: pipe CSV or JSON "
					 "records, or give --to or --list");
		goto done;
	}
	if ((status = cli_open(&c)))
		goto done;

	/* the recipients, in a file that can be read twice (a send above
	 * the warning threshold is confirmed, then prepared again) */
	if (!(fp = tmpfile())) {
		cli_warn(&c, "temporary file: %m");
		status = EX_CANTCREAT;
		goto done;
	}
	if (nto) {
		fputs("phone\n", fp);
		for (size_t i = 0; i < nto; i++) {
			if (strpbrk(to[i], ",\"\r\n")) {
				status = cli_usage_error(&c, "--to: invalid "
							 "number '%s'", to[i]);
				goto done;
			}
			fprintf(fp, "%s\n", to[i]);
		}
		name = "--to";
		s.infmt = CN_FMT_CSV;
	} else if (s.spec.list) {
		struct cn_err err;

		if (cn_contacts_export(c.st, cli_folder(&c), s.spec.list, fp,
				       CN_FMT_NDJSON, NULL, &err) < 0) {
			status = cli_fail(&c, &err);
			goto done;
		}
		name = s.spec.list;
		s.infmt = CN_FMT_JSON;
	} else {
		char buf[65536];
		size_t n;

		if (optind < argc && strcmp(argv[optind], "-") != 0) {
			name = argv[optind];
			if (!(in = fopen(name, "re"))) {
				cli_warn(&c, "%s: %m", name);
				status = EX_NOINPUT;
				goto done;
			}
		}
		while ((n = fread(buf, 1, sizeof(buf), in ? in : stdin)) > 0)
			if (fwrite(buf, 1, n, fp) != n) {
				cli_warn(&c, "temporary file: %m");
				status = EX_CANTCREAT;
				goto done;
			}
		if (ferror(in ? in : stdin)) {
			cli_warn(&c, "%s: read error", name);
			status = EX_IOERR;
			goto done;
		}
	}
	fflush(fp);
	sendcli_signals(&s);
	status = sendcli_run(&c, &s, fp, name);
done:
	if (fp)
		fclose(fp);
	if (in)
		fclose(in);
	free(to);
	if (c.stop)
		status = c.status;
	cli_close(&c);
	return cli_finish(&c, status);
}
