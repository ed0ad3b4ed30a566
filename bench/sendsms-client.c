/*
 * sendsms-client.c - the minimal Kannel client of the SMS benchmark
 * (issue 5): fires sendsms requests over a fixed number of keep-alive
 * connections with libcurl multi, and nothing else (no rendering, no
 * store), to measure what the gateway itself accepts per second.
 *
 *	sendsms-client [-c CONNS] [-n COUNT] < urls.txt
 *	sendsms-client [-c CONNS] [-n COUNT] --url SENDSMS-URL --user NAME
 *	    --password-file FILE --recipients FILE --text TEXT [--from SENDER]
 *	    [--dlr-url TEMPLATE [--dlr-mask MASK]] [--charset CS] [--coding N]
 *
 * Without --url it reads one complete URL a line from stdin.  With it, it
 * builds a GET request per recipient, as a Kannel driver would:
 *
 *	URL?username=…&password=…&to=…&text=…&charset=UTF-8[&coding=N]
 *	    [&from=…][&dlr-mask=31&dlr-url=…]
 *
 * every value URL-encoded; "{ref}" in the dlr-url template becomes a
 * reference of its own per message (36 characters, like a UUID), so the
 * requests have the size of real ones.  The recipients file holds one
 * number a line, or a CSV whose first column is the number (a first line
 * "phone…" is a header and skipped); with COUNT above the number of
 * recipients, they are used again in turn.  The password comes from the
 * environment (SENDSMS_PASSWORD) or the file's first line, never argv.
 *
 * At most CONNS (default 16) requests are in flight, one per connection
 * (CURLMOPT_MAX_TOTAL_CONNECTIONS), each easy handle reused so that its
 * connection stays open.  At the end it prints one line on stdout:
 *
 *	requests=N accepted=A refused=R errors=E connections=K seconds=S rate=X
 *
 * accepted: HTTP 202 (Kannel's "0: Accepted for delivery" or "3: Queued
 * for later delivery"); refused: any other HTTP status; errors: transfers
 * that failed (connection refused, timeout); connections: the connections
 * opened; seconds: from the first request to the last answer; rate:
 * accepted / seconds.  The first few failures are described on stderr.
 * Exit status: 0 when every request was accepted, 1 otherwise, 64 on bad
 * usage, 66 when an input cannot be read, 70 when libcurl fails.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONNS 1024
#define MAX_REPORTS 5		/* failures described on stderr */

struct opts {
	long conns;
	long count;		/* -1: every URL or recipient once */
	const char *url;
	const char *user;
	const char *password_file;
	const char *recipients;
	const char *text;
	const char *from;
	const char *dlr_url;
	long dlr_mask;
	const char *charset;
	long coding;		/* -1: not sent */
};

/* A growable array of strings. */
struct lines {
	char **v;
	size_t n, cap;
};

struct slot {
	CURL *easy;
	char *url;		/* owned */
	char err[CURL_ERROR_SIZE];
	char body[128];		/* the start of the answer */
	size_t body_len;
};

struct stats {
	long requests, accepted, refused, errors, connections, reported;
};

static void
die(int code, const char *msg, const char *arg)
{
	fprintf(stderr, "sendsms-client: %s%s%s\n", msg, arg ? ": " : "",
	    arg ? arg : "");
	exit(code);
}

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q)
		die(70, "out of memory", NULL);
	return q;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

static void
lines_push(struct lines *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(s);
}

/* Reads FP a line at a time into L, without line ends and empty lines;
 * with first_column, keeps what comes before the first comma (quotes
 * removed) and skips a header line starting with "phone". */
static void
lines_read(struct lines *l, FILE *fp, int first_column)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int first = 1;

	while ((len = getline(&buf, &cap, fp)) != -1) {
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (len == 0)
			continue;
		if (first_column) {
			char *s = buf, *c;

			if (*s == '"') {
				s++;
				if ((c = strchr(s, '"')))
					*c = '\0';
			} else if ((c = strchr(s, ','))) {
				*c = '\0';
			}
			if (first && strncmp(s, "phone", 5) == 0) {
				first = 0;
				continue;
			}
			lines_push(l, s);
		} else {
			lines_push(l, buf);
		}
		first = 0;
	}
	free(buf);
}

/* A growable string for building URLs. */
struct buf {
	char *s;
	size_t n, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Appends "&NAME=" and VALUE URL-encoded. */
static void
buf_param(struct buf *b, CURL *c, const char *name, const char *value)
{
	char *e = curl_easy_escape(c, value, 0);

	if (!e)
		die(70, "curl_easy_escape failed", NULL);
	buf_str(b, b->n && b->s[b->n - 1] != '?' ? "&" : "");
	buf_str(b, name);
	buf_str(b, "=");
	buf_str(b, e);
	curl_free(e);
}

/* A reference of 36 characters per message, UUID-shaped. */
static void
make_ref(char out[37], long i)
{
	uint64_t x = (uint64_t)i * UINT64_C(0x9E3779B97F4A7C15) + 1;

	snprintf(out, 37, "%08lx-%04lx-7%03lx-8%03lx-%012llx",
	    (unsigned long)(x >> 32), (unsigned long)(x >> 16 & 0xffff),
	    (unsigned long)(x >> 4 & 0xfff), (unsigned long)(i & 0xfff),
	    (unsigned long long)(i & 0xffffffffffffULL));
}

/* The dlr-url of message I: TEMPLATE with "{ref}" replaced. */
static char *
dlr_for(const char *tmpl, long i)
{
	struct buf b = {0};
	const char *p = tmpl, *q;
	char ref[37];

	make_ref(ref, i);
	while ((q = strstr(p, "{ref}"))) {
		buf_add(&b, p, (size_t)(q - p));
		buf_str(&b, ref);
		p = q + 5;
	}
	buf_str(&b, p);
	return b.s;
}

/* The URL of request I (the caller frees it). */
static char *
url_for(const struct opts *o, CURL *c, const struct lines *in,
    const char *password, long i)
{
	struct buf b = {0};
	char num[32];

	if (!o->url)
		return xstrdup(in->v[i % (long)in->n]);
	buf_str(&b, o->url);
	buf_str(&b, strchr(o->url, '?') ? "&" : "?");
	buf_param(&b, c, "username", o->user);
	buf_param(&b, c, "password", password);
	buf_param(&b, c, "to", in->v[i % (long)in->n]);
	buf_param(&b, c, "text", o->text);
	if (o->charset)
		buf_param(&b, c, "charset", o->charset);
	if (o->coding >= 0) {
		snprintf(num, sizeof(num), "%ld", o->coding);
		buf_param(&b, c, "coding", num);
	}
	if (o->from)
		buf_param(&b, c, "from", o->from);
	if (o->dlr_url) {
		char *d = dlr_for(o->dlr_url, i);

		snprintf(num, sizeof(num), "%ld", o->dlr_mask);
		buf_param(&b, c, "dlr-mask", num);
		buf_param(&b, c, "dlr-url", d);
		free(d);
	}
	return b.s;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct slot *s = arg;
	size_t n = size * nmemb, room = sizeof(s->body) - 1 - s->body_len;

	if (n < room)
		room = n;
	memcpy(s->body + s->body_len, data, room);
	s->body_len += room;
	s->body[s->body_len] = '\0';
	return n;
}

static void
slot_start(CURLM *m, struct slot *s, char *url)
{
	free(s->url);
	s->url = url;
	s->err[0] = '\0';
	s->body[0] = '\0';
	s->body_len = 0;
	curl_easy_setopt(s->easy, CURLOPT_URL, url);
	if (curl_multi_add_handle(m, s->easy) != CURLM_OK)
		die(70, "curl_multi_add_handle failed", NULL);
}

static void
slot_done(struct slot *s, CURLcode rc, struct stats *st)
{
	long code = 0, conns = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &conns);
	st->connections += conns;
	if (rc == CURLE_OK && code == 202) {
		st->accepted++;
		return;
	}
	if (rc != CURLE_OK)
		st->errors++;
	else
		st->refused++;
	if (st->reported++ < MAX_REPORTS) {
		if (rc != CURLE_OK)
			fprintf(stderr, "sendsms-client: %s\n",
			    s->err[0] ? s->err : curl_easy_strerror(rc));
		else
			fprintf(stderr, "sendsms-client: HTTP %ld: %s\n", code,
			    s->body);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
number(const char *s, const char *what, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min)
		die(64, what, s);
	return v;
}

static void
usage(void)
{
	fputs("usage: sendsms-client [-c CONNS] [-n COUNT] < urls.txt\n"
	    "       sendsms-client [-c CONNS] [-n COUNT] --url URL --user NAME"
	    " --password-file FILE\n"
	    "           --recipients FILE --text TEXT [--from SENDER]"
	    " [--dlr-url TEMPLATE]\n"
	    "           [--dlr-mask MASK] [--charset CS] [--coding N]\n",
	    stderr);
	exit(64);
}

static char *
read_password(const char *file)
{
	const char *env = getenv("SENDSMS_PASSWORD");
	struct lines l = {0};
	FILE *fp;

	if (env && *env)
		return xstrdup(env);
	if (!file)
		die(64, "--password-file (or SENDSMS_PASSWORD) is required", NULL);
	if (!(fp = fopen(file, "r")))
		die(66, strerror(errno), file);
	lines_read(&l, fp, 0);
	fclose(fp);
	if (!l.n)
		die(66, "empty password file", file);
	return l.v[0];
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"connections", required_argument, NULL, 'c'},
		{"count", required_argument, NULL, 'n'},
		{"url", required_argument, NULL, 'u'},
		{"user", required_argument, NULL, 'U'},
		{"password-file", required_argument, NULL, 'P'},
		{"recipients", required_argument, NULL, 'r'},
		{"text", required_argument, NULL, 't'},
		{"from", required_argument, NULL, 'f'},
		{"dlr-url", required_argument, NULL, 'd'},
		{"dlr-mask", required_argument, NULL, 'm'},
		{"charset", required_argument, NULL, 'C'},
		{"coding", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.conns = 16, .count = -1, .dlr_mask = 31,
	    .charset = "UTF-8", .coding = -1};
	struct lines in = {0};
	struct slot *slots;
	struct stats st = {0};
	char *password = NULL;
	CURLM *m;
	long next = 0, inflight, i;
	double t0, t1;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:n:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.conns = number(optarg, "bad --connections", 1); break;
		case 'n': o.count = number(optarg, "bad --count", 0); break;
		case 'u': o.url = optarg; break;
		case 'U': o.user = optarg; break;
		case 'P': o.password_file = optarg; break;
		case 'r': o.recipients = optarg; break;
		case 't': o.text = optarg; break;
		case 'f': o.from = optarg; break;
		case 'd': o.dlr_url = optarg; break;
		case 'm': o.dlr_mask = number(optarg, "bad --dlr-mask", 0); break;
		case 'C': o.charset = *optarg ? optarg : NULL; break;
		case 'k': o.coding = number(optarg, "bad --coding", 0); break;
		default: usage();
		}
	}
	if (optind != argc || o.conns > MAX_CONNS)
		usage();
	if (o.url) {
		FILE *fp;

		if (!o.user || !o.recipients || !o.text)
			die(64, "--url needs --user, --recipients and --text", NULL);
		password = read_password(o.password_file);
		if (!(fp = fopen(o.recipients, "r")))
			die(66, strerror(errno), o.recipients);
		lines_read(&in, fp, 1);
		fclose(fp);
	} else {
		lines_read(&in, stdin, 0);
	}
	if (!in.n)
		die(66, o.url ? "no recipients" : "no URLs on stdin", NULL);
	if (o.count < 0)
		o.count = (long)in.n;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(m = curl_multi_init()))
		die(70, "cannot initialise libcurl", NULL);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, o.conns);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, o.conns);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, o.conns);
	slots = calloc((size_t)o.conns, sizeof(*slots));
	if (!slots)
		die(70, "out of memory", NULL);
	for (i = 0; i < o.conns; i++) {
		struct slot *s = &slots[i];

		if (!(s->easy = curl_easy_init()))
			die(70, "curl_easy_init failed", NULL);
		curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->err);
		curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(s->easy, CURLOPT_TCP_NODELAY, 1L);
	}

	t0 = now();
	for (i = 0; i < o.conns && next < o.count; i++, next++) {
		slot_start(m, &slots[i],
		    url_for(&o, slots[i].easy, &in, password, next));
		st.requests++;
	}
	inflight = st.requests;
	while (inflight > 0) {
		int still = 0, left;
		CURLMsg *msg;

		if (curl_multi_perform(m, &still) != CURLM_OK)
			die(70, "curl_multi_perform failed", NULL);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct slot *s;
			CURLcode rc = msg->data.result;
			CURL *e = msg->easy_handle;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
			curl_multi_remove_handle(m, e);
			slot_done(s, rc, &st);
			inflight--;
			if (next < o.count) {
				slot_start(m, s, url_for(&o, e, &in, password,
				    next++));
				st.requests++;
				inflight++;
			}
		}
		if (inflight > 0 &&
		    curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			die(70, "curl_multi_poll failed", NULL);
	}
	t1 = now();

	printf("requests=%ld accepted=%ld refused=%ld errors=%ld "
	    "connections=%ld seconds=%.3f rate=%.1f\n", st.requests,
	    st.accepted, st.refused, st.errors, st.connections, t1 - t0,
	    t1 > t0 ? (double)st.accepted / (t1 - t0) : 0.0);
	for (i = 0; i < o.conns; i++) {
		curl_easy_cleanup(slots[i].easy);
		free(slots[i].url);
	}
	free(slots);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	if (fflush(stdout) == EOF || ferror(stdout))
		die(70, "cannot write the result", NULL);
	return st.accepted == st.requests ? 0 : 1;
}
